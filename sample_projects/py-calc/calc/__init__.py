"""Small statistics helpers used by the metrics dashboard."""
from .stats import mean, median, moving_average, percentile

__all__ = ["mean", "median", "moving_average", "percentile"]

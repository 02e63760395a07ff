import pytest

from calc import mean, median, moving_average, percentile
from calc.cli import summarise


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_mean_empty():
    with pytest.raises(ValueError):
        mean([])


def test_median_odd_and_even():
    assert median([5, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5


def test_moving_average_covers_every_window():
    assert moving_average([1, 2, 3, 4, 5], 2) == [1.5, 2.5, 3.5, 4.5]


def test_moving_average_window_equals_length():
    assert moving_average([2, 4, 6], 3) == [4]


def test_moving_average_window_too_large():
    assert moving_average([1, 2], 3) == []


def test_percentile_nearest_rank():
    data = [15, 20, 35, 40, 50]
    assert percentile(data, 30) == 20
    assert percentile(data, 100) == 50


def test_summarise():
    out = summarise([3, 1, 4, 1, 5], 2)
    assert out["count"] == 5
    assert out["median"] == 3
    assert out["moving"] == [2.0, 2.5, 2.5, 3.0]

"""Readability numbers for plain-text documents."""
from .stats import summary

__all__ = ["summary"]

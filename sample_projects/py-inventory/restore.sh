#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'inventory/pricing.py' <<'__HEALTHY__'
"""Prices in integer cents, so totals never pick up float noise."""

TAX_RATE_PERCENT = 8


def line_total(unit_cents, quantity):
    return unit_cents * quantity


def compute_total(lines, tax=True):
    """Sum of (unit_cents, quantity) lines, with sales tax rounded half up."""
    subtotal = sum(line_total(unit, qty) for unit, qty in lines)
    if not tax:
        return subtotal
    return subtotal + (subtotal * TAX_RATE_PERCENT + 50) // 100


def format_cents(cents):
    return f"${cents // 100}.{cents % 100:02d}"
__HEALTHY__
cat > 'inventory/store.py' <<'__HEALTHY__'
from dataclasses import dataclass, field

from . import pricing


@dataclass
class Item:
    sku: str
    name: str
    unit_cents: int
    quantity: int = 0


@dataclass
class Store:
    items: dict = field(default_factory=dict)

    def add(self, item):
        if item.sku in self.items:
            raise ValueError(f"duplicate sku {item.sku}")
        self.items[item.sku] = item

    def restock(self, sku, amount):
        if amount <= 0:
            raise ValueError("restock amount must be positive")
        self.items[sku].quantity += amount

    def sell(self, sku, amount):
        item = self.items[sku]
        if amount > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} left")
        item.quantity -= amount
        return pricing.compute_total([(item.unit_cents, amount)])

    def low_stock(self, threshold=5):
        return sorted(sku for sku, item in self.items.items() if item.quantity < threshold)
__HEALTHY__
# build leftovers of test runs
find . -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
rm -rf .pytest_cache

#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'orders/checkout.py' <<'__HEALTHY__'
from .customers import TIER_DISCOUNT_PERCENT, find_customer


def discount_percent(customer_id):
    customer = find_customer(customer_id)
    if customer is None:
        return 0
    return TIER_DISCOUNT_PERCENT[customer.tier]


def checkout(items, customer_id=None, shipping_cents=499, free_shipping_over=5000):
    """items: list of (name, unit_cents, qty). Returns the priced order as a dict."""
    subtotal = sum(unit * qty for _, unit, qty in items)
    discount = subtotal * discount_percent(customer_id) // 100
    after_discount = subtotal - discount
    shipping = 0 if after_discount >= free_shipping_over else shipping_cents
    return {
        "subtotal": subtotal,
        "discount": discount,
        "shipping": shipping,
        "total": after_discount + shipping,
    }
__HEALTHY__
# build leftovers of test runs
find . -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
rm -rf .pytest_cache

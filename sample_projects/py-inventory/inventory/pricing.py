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

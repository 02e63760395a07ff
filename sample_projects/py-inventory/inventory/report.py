"""The nightly stock report mailed to the shop owner."""
from . import pricing


def stock_value(store):
    lines = [(item.unit_cents, item.quantity) for item in store.items.values()]
    return pricing.compute_total(lines, tax=False)


def render(store):
    rows = [f"{item.sku:<8}{item.name:<16}{item.quantity:>5}" for item in store.items.values()]
    rows.append(f"stock value: {pricing.format_cents(stock_value(store))}")
    low = store.low_stock()
    if low:
        rows.append("reorder: " + ", ".join(low))
    return "\n".join(rows)

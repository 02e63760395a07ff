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

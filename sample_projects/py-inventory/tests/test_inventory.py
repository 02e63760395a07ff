import pytest

from inventory.report import render, stock_value
from inventory.store import Item, Store


@pytest.fixture
def store():
    s = Store()
    s.add(Item("A100", "widget", 250, 10))
    s.add(Item("B200", "gadget", 1999, 2))
    return s


def test_sell_charges_tax(store):
    assert store.sell("A100", 4) == 1080
    assert store.items["A100"].quantity == 6


def test_cannot_oversell(store):
    with pytest.raises(ValueError):
        store.sell("B200", 3)


def test_duplicate_sku_rejected(store):
    with pytest.raises(ValueError):
        store.add(Item("A100", "other", 1))


def test_stock_value_has_no_tax(store):
    assert stock_value(store) == 2500 + 3998


def test_render_lists_low_stock(store):
    text = render(store)
    assert "stock value: $64.98" in text
    assert text.endswith("reorder: B200")

from orders.checkout import checkout, discount_percent

CART = [("tea", 1250, 2), ("cups", 899, 1)]


def test_member_discounts():
    assert discount_percent("c1") == 15
    assert discount_percent("c2") == 5
    assert discount_percent("c3") == 0


def test_guest_checkout_has_no_discount():
    order = checkout(CART)
    assert order == {"subtotal": 3399, "discount": 0, "shipping": 499, "total": 3898}


def test_unknown_customer_is_treated_as_guest():
    assert checkout(CART, customer_id="nobody")["discount"] == 0


def test_gold_member_gets_free_shipping_over_threshold():
    order = checkout([("teapot", 6400, 1)], customer_id="c1")
    assert order["discount"] == 960
    assert order["shipping"] == 0
    assert order["total"] == 5440

#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'src/cart.js' <<'__HEALTHY__'
'use strict';

const { roundCents, formatPrice } = require('./money');
const { couponPercent } = require('./coupons');

class Cart {
  constructor() {
    this.lines = new Map();
    this.coupon = null;
  }

  add(sku, price, quantity = 1) {
    if (!(price >= 0) || !Number.isInteger(quantity) || quantity <= 0) {
      throw new RangeError(`invalid line for ${sku}`);
    }
    const line = this.lines.get(sku) || { price, quantity: 0 };
    line.quantity += quantity;
    this.lines.set(sku, line);
    return this;
  }

  remove(sku) {
    this.lines.delete(sku);
    return this;
  }

  applyCoupon(code) {
    this.coupon = code;
    return this;
  }

  subtotal() {
    let sum = 0;
    for (const { price, quantity } of this.lines.values()) sum += price * quantity;
    return roundCents(sum);
  }

  discount() {
    const percent = couponPercent(this.coupon, this.subtotal());
    return roundCents((this.subtotal() * percent) / 100);
  }

  total() {
    return roundCents(this.subtotal() - this.discount());
  }

  receipt() {
    return [
      `subtotal ${formatPrice(this.subtotal())}`,
      `discount -${formatPrice(this.discount())}`,
      `total ${formatPrice(this.total())}`,
    ].join('\n');
  }
}

module.exports = { Cart };
__HEALTHY__

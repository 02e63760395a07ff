'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { Cart } = require('../src/cart');
const { roundCents } = require('../src/money');

test('roundCents rounds half away from zero', () => {
  assert.equal(roundCents(1.005), 1.01);
  assert.equal(roundCents(2.675), 2.68);
  assert.equal(roundCents(-1.005), -1.01);
});

test('subtotal adds up repeated lines', () => {
  const cart = new Cart().add('pen', 1.2, 3).add('pen', 1.2).add('pad', 3.35);
  assert.equal(cart.subtotal(), 8.15);
});

test('percentage coupon is rounded to cents', () => {
  const cart = new Cart().add('mug', 8.99, 3).applyCoupon('welcome10');
  assert.equal(cart.subtotal(), 26.97);
  assert.equal(cart.discount(), 2.7);
  assert.equal(cart.total(), 24.27);
});

test('coupon with a minimum subtotal only applies above it', () => {
  const small = new Cart().add('hat', 19.99).applyCoupon('SPRING25');
  assert.equal(small.discount(), 0);
  const big = new Cart().add('coat', 89.9).applyCoupon('SPRING25');
  assert.equal(big.discount(), 22.48);
  assert.equal(big.total(), 67.42);
});

test('receipt shows every amount', () => {
  const text = new Cart().add('book', 12.5, 2).applyCoupon('STAFF').receipt();
  assert.equal(text, 'subtotal $25.00\ndiscount -$10.00\ntotal $15.00');
});

test('invalid quantities are rejected', () => {
  assert.throws(() => new Cart().add('x', 1, 0), RangeError);
  assert.throws(() => new Cart().add('x', -1, 1), RangeError);
});

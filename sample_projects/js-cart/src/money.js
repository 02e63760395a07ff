'use strict';

/** Rounds a currency amount to whole cents, half away from zero. */
function roundCents(amount) {
  // shift the decimal point in the string form, so 1.005 rounds to 1.01 and not 1.00
  const cents = Math.round(Number(`${Math.abs(amount)}e2`));
  return Math.sign(amount) * Number(`${cents}e-2`);
}

function formatPrice(amount, currency = 'USD') {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
}

module.exports = { roundCents, formatPrice };

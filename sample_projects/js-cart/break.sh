#!/usr/bin/env bash
# Bug: Cart.discount truncates to cents with Math.floor instead of rounding (2.697 -> 2.69, not 2.70).
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's|return roundCents((this\.subtotal() \* percent) / 100);|return Math.floor(this.subtotal() * percent) / 100;|' src/cart.js

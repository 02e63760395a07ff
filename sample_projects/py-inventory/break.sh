#!/usr/bin/env bash
# Bug: pricing.compute_total was renamed to order_total and store.py was updated,
# but the caller in report.py still uses the old name -> AttributeError.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/^def compute_total(/def order_total(/' inventory/pricing.py
sed -i 's/pricing\.compute_total(/pricing.order_total(/' inventory/store.py

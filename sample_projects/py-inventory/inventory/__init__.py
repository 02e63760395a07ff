"""Stock keeping for a small shop: items, pricing and the nightly report."""

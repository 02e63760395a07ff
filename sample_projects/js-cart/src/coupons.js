'use strict';

const COUPONS = {
  WELCOME10: { percent: 10 },
  SPRING25: { percent: 25, minSubtotal: 50 },
  STAFF: { percent: 40 },
};

/** The discount percentage a coupon grants for a given subtotal (0 if it does not apply). */
function couponPercent(code, subtotal) {
  const coupon = COUPONS[String(code || '').toUpperCase()];
  if (!coupon) return 0;
  if (coupon.minSubtotal !== undefined && subtotal < coupon.minSubtotal) return 0;
  return coupon.percent;
}

module.exports = { couponPercent, COUPONS };

// The venue's idempotency key of an order, derived from its order id: decide names its orders with it,
// the brackets processor its exits, and a connector finds an exit's entry at the venue by it.

/**
 * The orderId without dashes, first 32 characters. For a UUID that is all 32 hex digits (so distinct
 * orders never share one) and it fits every venue's limit (Binance: 36 characters of [A-Za-z0-9._:/-]).
 */
export function clientOrderIdFor(orderId: string): string {
  return orderId.replace(/-/g, '').slice(0, 32);
}

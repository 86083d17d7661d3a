// The order terms Alpaca's documentation allows, as the fake's POST /v2/orders checks them before it
// accepts an order: a refusal is the 422 message, written from the documents, never from connectors/alpaca.

/**
 * Alpaca's documented order terms: type market, limit, stop, stop_limit, trailing_stop; limit_price for
 * limit and stop_limit, stop_price for stop and stop_limit, exactly one of trail_price / trail_percent
 * for trailing_stop (time_in_force day or gtc); crypto takes market, limit and stop_limit, gtc or ioc.
 */
export function orderTermsProblem(b: Record<string, string | undefined>): string | null {
  const type = b.type ?? '';
  const crypto = (b.symbol ?? '').includes('/');
  if (!['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'].includes(type)) return `invalid order type: ${type}`;
  if (crypto && !['market', 'limit', 'stop_limit'].includes(type)) return `${type} orders are not supported for crypto`;
  if (crypto && !['gtc', 'ioc'].includes(b.time_in_force ?? '')) return 'invalid crypto time_in_force';
  if (!['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'].includes(b.time_in_force ?? '')) return 'invalid time_in_force';
  if ((type === 'limit' || type === 'stop_limit') !== (b.limit_price !== undefined)) return 'limit_price is required for limit and stop_limit orders only';
  if ((type === 'stop' || type === 'stop_limit') !== (b.stop_price !== undefined)) return 'stop_price is required for stop and stop_limit orders only';
  const trails = Number(b.trail_price !== undefined) + Number(b.trail_percent !== undefined);
  if (type === 'trailing_stop' ? trails !== 1 : trails !== 0) return 'trailing_stop takes exactly one of trail_price, trail_percent';
  if (type === 'trailing_stop' && !['day', 'gtc'].includes(b.time_in_force ?? '')) return 'trailing_stop orders take time_in_force day or gtc';
  return null;
}

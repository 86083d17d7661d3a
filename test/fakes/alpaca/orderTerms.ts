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

/** An OCO submit's exit pair as Alpaca's "OCO Orders" reads it: the take-profit's limit and the stop-loss. */
export interface OcoTerms { takeProfitLimit: string; stopPrice: string; stopLimit: string | null }

const price = (v: unknown) => (typeof v === 'string' || typeof v === 'number') && Number(v) > 0 ? String(v) : null;

/**
 * Alpaca's OCO terms ("OCO Orders", "Bracket Orders"): an exit pair of the same side; `type` must always be
 * limit (the take-profit), its limit_price is take_profit.limit_price (a top-level limit_price, if sent,
 * must be the same); the stop-loss is a stop order with stop_loss.stop_price, or a stop_limit with
 * stop_loss.limit_price too (stop_price must be present in any case); time_in_force day or gtc; extended
 * hours are not supported; crypto takes simple orders only. The parent must pass as a limit order too.
 */
export function ocoTerms(b: Record<string, unknown>): { refusal: string } | { terms: OcoTerms } {
  const tp = (b.take_profit ?? {}) as Record<string, unknown>;
  const sl = (b.stop_loss ?? {}) as Record<string, unknown>;
  if (String(b.symbol ?? '').includes('/')) return { refusal: 'oco orders are not supported for crypto' };
  if (b.type !== 'limit') return { refusal: 'oco orders must be of type limit' };
  if (!['day', 'gtc'].includes(String(b.time_in_force ?? ''))) return { refusal: 'oco orders take time_in_force day or gtc' };
  if (b.extended_hours === true || b.extended_hours === 'true') return { refusal: 'extended hours are not supported for oco orders' };
  const takeProfitLimit = price(tp.limit_price);
  if (takeProfitLimit === null) return { refusal: 'take_profit.limit_price is required for oco orders' };
  const stopPrice = price(sl.stop_price);
  if (stopPrice === null) return { refusal: 'stop_loss.stop_price is required for oco orders' };
  if (sl.limit_price !== undefined && price(sl.limit_price) === null) return { refusal: 'invalid stop_loss.limit_price' };
  if (b.limit_price !== undefined && Number(b.limit_price) !== Number(takeProfitLimit)) return { refusal: 'limit_price must equal take_profit.limit_price' };
  const parent = orderTermsProblem({ ...(b as Record<string, string | undefined>), limit_price: takeProfitLimit });
  if (parent !== null) return { refusal: parent };
  return { terms: { takeProfitLimit, stopPrice, stopLimit: sl.limit_price === undefined ? null : String(sl.limit_price) } };
}

/**
 * "Threshold on stop price of stop-loss orders": the stop price has to be at least $0.01 below (a sell
 * stop-loss; above for a buy) each base price: the take-profit's limit price for OCO orders, and the
 * current market price. A 422 with code 42210000 when it is not.
 */
export function stopThresholdProblem(side: string, stopPrice: number, basePrices: number[]): string | null {
  const eps = 1e-9;
  for (const base of basePrices) {
    if (side === 'sell' && stopPrice > base - 0.01 + eps) return `stop price must be less than base_price - 0.01 (base_price ${base})`;
    if (side === 'buy' && stopPrice < base + 0.01 - eps) return `stop price must be greater than base_price + 0.01 (base_price ${base})`;
  }
  return null;
}

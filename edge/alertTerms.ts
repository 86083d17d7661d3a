// The order terms of an alert (order type, prices, trail, time in force), its sizing (by contracts,
// money, percent of equity or risk) and its bracket exits, shared by both routes: each route passes its
// own field names (snake_case on TradingView, camelCase when signed) so every refusal names the field
// the sender wrote. Pure: no clock, no I/O.
import { z } from 'zod';
import type { BracketExit, Intent, OrderType, Sizing, TimeInForce } from '../schemas/types.ts';
import { invalidField } from './errors.ts';

// TradingView fills placeholders as text, so numbers may arrive as strings: decimal only, no hex,
// no blanks, no Infinity/NaN (z.number() refuses non-finite values).
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const toNumber = (v: unknown): unknown => (typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v);
const finite = () => z.number({ error: 'must be a finite number or numeric string' });
export const numeric = z.preprocess(toNumber, finite());
export const positive = z.preprocess(toNumber, finite().gt(0, { error: 'must be > 0' }));
export const nonNegative = z.preprocess(toNumber, finite().gte(0, { error: 'must be >= 0' }));
export const percent = z.preprocess(toNumber, finite().gt(0, { error: 'must be in (0, 100]' }).lte(100, { error: 'must be in (0, 100]' }));

export const orderTypeField = z.enum(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'], {
  error: 'must be market, limit, stop, stop_limit or trailing_stop',
});
export const timeInForceField = z.enum(['day', 'gtc', 'ioc', 'fok'], { error: 'must be day, gtc, ioc or fok' });
export const quantityTypeField = z.enum(['fixed', 'dollar_amount', 'percent_of_equity', 'risk_amount'], {
  error: 'must be fixed, dollar_amount, percent_of_equity or risk_amount',
});
const stopLossType = z.enum(['stop', 'stop_limit', 'trailing_stop'], { error: 'must be stop, stop_limit or trailing_stop' });

export const takeProfitSchema = z.strictObject({ price: positive.optional(), percent: percent.optional(), amount: positive.optional() });
export const stopLossSchemaSnake = z.strictObject({
  type: stopLossType.optional(), price: positive.optional(), percent: percent.optional(), amount: positive.optional(), limit_price: positive.optional(),
});
export const stopLossSchemaCamel = z.strictObject({
  type: stopLossType.optional(), price: positive.optional(), percent: percent.optional(), amount: positive.optional(), limitPrice: positive.optional(),
});

/** The field names a route uses, so a refusal names what the sender wrote. */
export interface FieldNames {
  orderType: string;
  limitPrice: string;
  stopPrice: string;
  trailAmount: string;
  trailPercent: string;
  timeInForce: string;
  quantity: string;
  quantityType: string;
  takeProfit: string;
  stopLoss: string;
}

export const SNAKE: FieldNames = {
  orderType: 'order_type', limitPrice: 'limit_price', stopPrice: 'stop_price', trailAmount: 'trail_amount',
  trailPercent: 'trail_percent', timeInForce: 'time_in_force', quantity: 'quantity', quantityType: 'quantity_type',
  takeProfit: 'take_profit', stopLoss: 'stop_loss',
};
export const CAMEL: FieldNames = {
  orderType: 'orderType', limitPrice: 'limitPrice', stopPrice: 'stopPrice', trailAmount: 'trailAmount',
  trailPercent: 'trailPercent', timeInForce: 'timeInForce', quantity: 'quantity', quantityType: 'quantityType',
  takeProfit: 'takeProfit', stopLoss: 'stopLoss',
};

export interface TermsInput {
  orderType?: z.output<typeof orderTypeField> | undefined;
  limitPrice?: number | undefined;
  stopPrice?: number | undefined;
  trailAmount?: number | undefined;
  trailPercent?: number | undefined;
  timeInForce?: z.output<typeof timeInForceField> | undefined;
}

export interface Terms {
  orderType: OrderType;
  limitPrice: number | null;
  stopPrice: number | null;
  trailAmount: number | null;
  trailPercent: number | null;
  timeInForce: TimeInForce | null;
}

export const NO_TERMS: Terms = { orderType: 'MARKET', limitPrice: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null };

const ORDER_TYPE: Record<z.output<typeof orderTypeField>, OrderType> = {
  market: 'MARKET', limit: 'LIMIT', stop: 'STOP', stop_limit: 'STOP_LIMIT', trailing_stop: 'TRAILING_STOP',
};
// Which price fields each order type takes; any other is refused, since ignoring it would send a
// different order than the trader wrote.
const TAKES: Record<OrderType, ReadonlySet<keyof TermsInput>> = {
  MARKET: new Set(),
  LIMIT: new Set(['limitPrice']),
  STOP: new Set(['stopPrice']),
  STOP_LIMIT: new Set(['stopPrice', 'limitPrice']),
  TRAILING_STOP: new Set(['trailAmount', 'trailPercent']),
};
const PRICE_FIELDS = ['limitPrice', 'stopPrice', 'trailAmount', 'trailPercent'] as const;

/** Order type, its prices and time in force, every combination checked; a refusal names the field. */
export function orderTerms(t: TermsInput, n: FieldNames): Terms {
  const type = t.orderType ?? 'market';
  const orderType = ORDER_TYPE[type];
  const takes = TAKES[orderType];
  for (const f of PRICE_FIELDS) {
    if (t[f] !== undefined && !takes.has(f)) throw invalidField(n[f], `not for ${n.orderType} ${type}`);
  }
  if ((orderType === 'LIMIT' || orderType === 'STOP_LIMIT') && t.limitPrice === undefined) throw invalidField(n.limitPrice, `required when ${n.orderType} is ${type}`);
  if ((orderType === 'STOP' || orderType === 'STOP_LIMIT') && t.stopPrice === undefined) throw invalidField(n.stopPrice, `required when ${n.orderType} is ${type}`);
  if (orderType === 'TRAILING_STOP') {
    if (t.trailAmount !== undefined && t.trailPercent !== undefined) throw invalidField(n.trailPercent, `give ${n.trailAmount} or ${n.trailPercent}, not both`);
    if (t.trailAmount === undefined && t.trailPercent === undefined) throw invalidField(n.trailAmount, `required when ${n.orderType} is trailing_stop (or ${n.trailPercent})`);
  }
  // The pipeline never lets a market order rest after the moment it was priced for.
  if (orderType === 'MARKET' && (t.timeInForce === 'day' || t.timeInForce === 'gtc')) {
    throw invalidField(n.timeInForce, `a market order does not rest: ioc or fok`);
  }
  return {
    orderType,
    limitPrice: t.limitPrice ?? null,
    stopPrice: t.stopPrice ?? null,
    trailAmount: t.trailAmount ?? null,
    trailPercent: t.trailPercent ?? null,
    timeInForce: t.timeInForce === undefined ? null : (t.timeInForce.toUpperCase() as TimeInForce),
  };
}

type TakeProfitInput = z.output<typeof takeProfitSchema>;
type StopLossInput = { type?: 'stop' | 'stop_limit' | 'trailing_stop' | undefined; price?: number | undefined; percent?: number | undefined; amount?: number | undefined; limitPrice?: number | undefined };

function oneOf(e: { price?: number | undefined; percent?: number | undefined; amount?: number | undefined }, field: string): void {
  const given = (['price', 'percent', 'amount'] as const).filter((k) => e[k] !== undefined);
  if (given.length === 0) throw invalidField(field, 'needs one of price, percent, amount');
  if (given.length > 1) throw invalidField(`${field}.${given[1]}`, `give one of price, percent, amount (also got ${given[0]})`);
}

export function takeProfitOf(tp: TakeProfitInput | undefined, n: FieldNames): BracketExit | null {
  if (tp === undefined) return null;
  oneOf(tp, n.takeProfit);
  return { orderType: 'LIMIT', price: tp.price ?? null, percent: tp.percent ?? null, amount: tp.amount ?? null, limitPrice: null };
}

export function stopLossOf(sl: StopLossInput | undefined, n: FieldNames): BracketExit | null {
  if (sl === undefined) return null;
  oneOf(sl, n.stopLoss);
  const limitName = `${n.stopLoss}.${n.limitPrice}`;
  const type = sl.type ?? 'stop';
  if (type === 'stop_limit' && sl.limitPrice === undefined) throw invalidField(limitName, 'required when type is stop_limit');
  if (type !== 'stop_limit' && sl.limitPrice !== undefined) throw invalidField(limitName, 'only when type is stop_limit');
  // A trailing stop trails by a distance; a fixed price has nothing to trail.
  if (type === 'trailing_stop' && sl.price !== undefined) throw invalidField(`${n.stopLoss}.price`, 'a trailing_stop trails by percent or amount');
  return { orderType: ORDER_TYPE[type], price: sl.price ?? null, percent: sl.percent ?? null, amount: sl.amount ?? null, limitPrice: sl.limitPrice ?? null };
}

/**
 * Sizing by money or risk. The amount travels in `sizing`, never in the signal's quantity (which is
 * then 0), so a reader that predates sizing refuses the signal instead of trading dollars as shares.
 */
export function sizingOf(type: z.output<typeof quantityTypeField> | undefined, amount: number, hasStopLoss: boolean, n: FieldNames): Sizing | null {
  switch (type) {
    case undefined:
    case 'fixed':
      return null;
    case 'dollar_amount':
      return { type: 'DOLLAR_AMOUNT', amount };
    case 'percent_of_equity':
      if (amount > 100) throw invalidField(n.quantity, 'a percent of equity must be in (0, 100]');
      return { type: 'PERCENT_OF_EQUITY', amount };
    case 'risk_amount':
      if (!hasStopLoss) throw invalidField(n.stopLoss, `required when ${n.quantityType} is risk_amount (the risk is measured to the stop)`);
      return { type: 'RISK_AMOUNT', amount };
    default: {
      const never: never = type;
      throw new Error(`unhandled quantity type ${String(never)}`);
    }
  }
}

/** What the signal's order is beyond its intent: its terms and its bracket exits. */
export interface OrderPart {
  terms: Terms;
  takeProfit: BracketExit | null;
  stopLoss: BracketExit | null;
}

/**
 * Sizing by money or risk and bracket exits belong to an entry (a delta or an add); a cancel carries
 * no order at all. Each field given where it cannot apply is refused by name, never ignored.
 */
export function refuseWhereNotApplicable(intent: Intent, given: ReadonlyArray<readonly [string, unknown, 'entry' | 'order']>, what: string): void {
  const entry = intent === 'DELTA' || intent === 'ADD';
  for (const [field, value, scope] of given) {
    if (value === undefined) continue;
    if (scope === 'entry' && !entry) throw invalidField(field, `only for an entry (buy, sell or add), not ${what}`);
    if (scope === 'order' && intent === 'CANCEL') throw invalidField(field, `not for ${what}: a cancel sends no order`);
  }
}

/** The order's terms and bracket exits; a cancel has none. */
export function orderPart(
  terms: Parameters<typeof orderTerms>[0],
  tp: Parameters<typeof takeProfitOf>[0],
  sl: Parameters<typeof stopLossOf>[0],
  trade: { intent: Intent },
  n: FieldNames,
): OrderPart {
  if (trade.intent === 'CANCEL') return { terms: NO_TERMS, takeProfit: null, stopLoss: null };
  return { terms: orderTerms(terms, n), takeProfit: takeProfitOf(tp, n), stopLoss: stopLossOf(sl, n) };
}

// Request body → Signal: the TradingView alert and the signed intent, each checked by its zod schema.
// Pure: the strategy (resolved by auth), the header key, the wall clock and the HLC come in as arguments.
// Schemas are compiled once at module load; errors name the sender's field. The Signal itself is built
// in signalBuild.ts, the JSON body parsed in jsonBody.ts.
import { z } from 'zod';
import type { Signal } from '../schemas/types.ts';
import {
  CAMEL, SNAKE, nonNegative, numeric, orderPart, type FieldNames, orderTypeField, percent, positive, quantityTypeField, refuseWhereNotApplicable, sizingOf,
  stopLossSchemaCamel, stopLossSchemaSnake, takeProfitSchema, timeInForceField,
} from './alertTerms.ts';
import { EdgeError, invalidField } from './errors.ts';
import { CANCEL, FLAT, IDEMPOTENCY_KEY, build, entry, side, type SignalContext, type Trade } from './signalBuild.ts';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const time = z.union(
  [
    z.string().regex(ISO_8601).refine((s) => !Number.isNaN(Date.parse(s))).transform((s) => Date.parse(s)),
    z.number().int().nonnegative(),
  ],
  { error: 'must be an ISO 8601 time with zone, or epoch ms' },
);

const idempotencyKey = z.string().regex(IDEMPOTENCY_KEY, { error: 'must be 1-128 of A-Z a-z 0-9 . _ : / + = -' });
const name = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(64, { error: 'too long' });

const tradingViewFields = {
  secret: z.string(),
  strategy: name,
  ticker: name,
  action: z.enum(['buy', 'sell', 'exit', 'cancel', 'add'], { error: 'must be buy, sell, exit, cancel or add' }),
  contracts: positive.optional(),
  quantity: positive.optional(),
  quantity_type: quantityTypeField.optional(),
  market_position: z.enum(['long', 'short', 'flat'], { error: 'must be long, short or flat' }).optional(),
  market_position_size: nonNegative.optional(),
  order_id: z.string().min(1).max(128).optional(),
  time: time.optional(),
  price: positive.optional(),
  order_type: orderTypeField.optional(),
  limit_price: positive.optional(),
  stop_price: positive.optional(),
  trail_amount: positive.optional(),
  trail_percent: percent.optional(),
  time_in_force: timeInForceField.optional(),
  take_profit: takeProfitSchema.optional(),
  stop_loss: stopLossSchemaSnake.optional(),
  intent: z.enum(['delta', 'target', 'flat'], { error: 'must be delta, target or flat' }).optional(),
  idempotency_key: idempotencyKey.optional(),
};
// TradingView bridges ignore the fields a template carries for other tools ({{interval}}, a comment):
// unknown top-level fields pass through, bounded, as the signal's `extras`. Every field the edge reads
// stays strictly checked.
const tradingViewSchema = z.looseObject(tradingViewFields);

export const EXTRAS_LIMITS = { fields: 32, keyChars: 64, valueChars: 1024 } as const;
// Compatibility-decomposed, marks and invisible characters dropped: `actión`, `ａｃｔｉｏｎ` and
// `act\u200bion` all fold to `action`.
const fold = (k: string) => k.normalize('NFKD').replace(/[\p{M}\p{Cf}_-]/gu, '').toLowerCase();
const knownByFold = new Map(Object.keys(tradingViewFields).map((k) => [fold(k), k]));

/** Fields the edge does not read, as text; a near-miss of a field it reads (`limitPrice`) is refused, not ignored. */
function extrasOf(body: Record<string, unknown>): Record<string, string> | null {
  let out: Record<string, string> | null = null;
  let n = 0;
  for (const [k, v] of Object.entries(body)) {
    if (Object.hasOwn(tradingViewFields, k)) continue;
    if (fold(k) === 'account') throw invalidField(k, 'not accepted: the account comes from the strategy\'s configuration');
    const meant = knownByFold.get(fold(k));
    if (meant !== undefined) throw invalidField(k, `unknown field: did you mean ${meant}?`);
    if (++n > EXTRAS_LIMITS.fields) throw invalidField(k, `too many fields the edge does not read (at most ${EXTRAS_LIMITS.fields})`);
    if (k.length > EXTRAS_LIMITS.keyChars) throw invalidField(k.slice(0, EXTRAS_LIMITS.keyChars), `field name longer than ${EXTRAS_LIMITS.keyChars} characters`);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (text.length > EXTRAS_LIMITS.valueChars) throw invalidField(k, `longer than ${EXTRAS_LIMITS.valueChars} characters`);
    (out ??= Object.create(null) as Record<string, string>)[k] = text;
  }
  return out;
}

// The order terms as TradingView bridges' templates spell them (`orderType`, `limitPrice`, `quantityType`,
// `takeProfit`, `stopLoss` with `limitPrice` inside: the camelCase of the signed route) are the same fields
// as their snake_case: either spelling, never both in one alert. A refusal names the spelling sent.
const ALIASES = (Object.keys(SNAKE) as (keyof FieldNames)[]).filter((k) => SNAKE[k] !== CAMEL[k]);

function readAliases(body: unknown): { body: unknown; names: FieldNames; sentAs: Map<string, string> } {
  const sentAs = new Map<string, string>();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body, names: SNAKE, sentAs };
  const names: FieldNames = { ...SNAKE };
  let out: Record<string, unknown> = body as Record<string, unknown>;
  const rename = (o: Record<string, unknown>, camel: string, snake: string, where: string): Record<string, unknown> => {
    if (!Object.hasOwn(o, camel)) return o;
    if (Object.hasOwn(o, snake)) throw invalidField(`${where}${camel}`, `give ${where}${snake} or ${where}${camel}, not both`);
    const { [camel]: value, ...rest } = o;
    return { ...rest, [snake]: value };
  };
  for (const k of ALIASES) {
    const renamed = rename(out, CAMEL[k], SNAKE[k], '');
    if (renamed !== out) { names[k] = CAMEL[k]; sentAs.set(SNAKE[k], CAMEL[k]); out = renamed; }
  }
  const sl = out.stop_loss;
  if (sl !== null && typeof sl === 'object' && !Array.isArray(sl)) {
    const renamed = rename(sl as Record<string, unknown>, CAMEL.limitPrice, SNAKE.limitPrice, `${names.stopLoss}.`);
    if (renamed !== sl) { out = { ...out, stop_loss: renamed }; sentAs.set('stop_loss.limit_price', `${names.stopLoss}.limitPrice`); }
  }
  return { body: out, names, sentAs };
}

/** A refusal of a renamed field names it as it was sent. */
function asSent<T>(sentAs: Map<string, string>, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof EdgeError) || e.field === undefined || sentAs.size === 0) throw e;
    // The longest renamed path the field is in: `stop_loss.limit_price` before `stop_loss`.
    const hit = [...sentAs.keys()].filter((k) => e.field === k || e.field!.startsWith(`${k}.`)).sort((a, b) => b.length - a.length)[0];
    if (hit === undefined) throw e;
    throw invalidField(`${sentAs.get(hit)}${e.field.slice(hit.length)}`, e.message);
  }
}

const signedSchema = z.strictObject({
  strategy: name,
  symbol: name,
  side: z.enum(['buy', 'sell'], { error: 'must be buy or sell' }).optional(),
  quantity: positive.optional(),
  intent: z.enum(['delta', 'target', 'flat', 'exit', 'add', 'cancel'], { error: 'must be delta, target, flat, exit, add or cancel' }),
  target: numeric.optional(),
  quantityType: quantityTypeField.optional(),
  orderType: orderTypeField.optional(),
  limitPrice: positive.optional(),
  stopPrice: positive.optional(),
  trailAmount: positive.optional(),
  trailPercent: percent.optional(),
  timeInForce: timeInForceField.optional(),
  takeProfit: takeProfitSchema.optional(),
  stopLoss: stopLossSchemaCamel.optional(),
  price: positive.optional(),
  time: time.optional(),
  idempotencyKey: idempotencyKey.optional(),
});

function check<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') throw invalidField([...issue.path, issue.keys[0]].join('.'), 'unknown field');
  const field = issue.path.length ? issue.path.join('.') : 'body';
  throw invalidField(field, issue.message.endsWith('received undefined') ? 'required' : issue.message);
}

/**
 * A TradingView alert. Intent: from `action` for exit (flat), cancel and add; else `intent` if given;
 * else a target when `market_position` is given (long +size, short −size, flat → FLAT), so a repeated
 * or late alert cannot flip the position; else a delta from action and contracts (or quantity).
 */
export function tradingViewSignal(body: unknown, ctx: SignalContext): Signal {
  const aliased = readAliases(body);
  return asSent(aliased.sentAs, () => fromTradingView(aliased.body, aliased.names, ctx));
}

function fromTradingView(body: unknown, names: FieldNames, ctx: SignalContext): Signal {
  const b = check(tradingViewSchema, body);
  const extras = extrasOf(b);
  const reported =
    b.market_position === 'flat' ? 0
    : b.market_position !== undefined && b.market_position_size !== undefined
      ? (b.market_position === 'long' ? 1 : -1) * b.market_position_size
      : null;
  if (b.contracts !== undefined && b.quantity !== undefined) throw invalidField('quantity', 'give contracts or quantity, not both');
  const amount = b.contracts ?? b.quantity;
  let intent: 'delta' | 'target' | 'flat' | 'add' | 'cancel';
  if (b.action === 'buy' || b.action === 'sell') {
    intent = b.intent ?? (b.market_position !== undefined ? 'target' : 'delta');
  } else {
    if (b.intent !== undefined) throw invalidField('intent', `not with action ${b.action}: the action says what to do`);
    if (b.action === 'exit' && b.market_position !== undefined && b.market_position !== 'flat') {
      throw invalidField('market_position', 'must be flat (or absent) with action exit');
    }
    intent = b.action === 'exit' ? 'flat' : b.action;
  }
  let trade: Trade;
  switch (intent) {
    case 'delta':
    case 'add': {
      if (amount === undefined) throw invalidField('contracts', 'required');
      const sizing = sizingOf(b.quantity_type, amount, b.stop_loss !== undefined, names);
      trade = intent === 'add' ? entry('ADD', null, amount, sizing) : entry('DELTA', side(b.action as 'buy' | 'sell'), amount, sizing);
      break;
    }
    case 'flat':
      trade = FLAT;
      break;
    case 'cancel':
      trade = CANCEL;
      break;
    case 'target': {
      if (b.market_position === undefined) throw invalidField('market_position', 'required for a target intent');
      if (b.market_position === 'flat') { trade = FLAT; break; }
      const size = b.market_position_size;
      if (size === undefined) throw invalidField('market_position_size', 'required when market_position is long or short');
      if (size === 0) throw invalidField('market_position_size', 'must be > 0 when market_position is long or short');
      trade = { intent: 'TARGET', side: null, quantity: size, targetPosition: reported, sizing: null };
      break;
    }
    default: {
      const never: never = intent;
      throw new Error(`unhandled intent ${String(never)}`);
    }
  }
  // `contracts` comes from {{strategy.order.contracts}} in every template, so a target or an exit
  // ignores it as before; `quantity` is only ever written on purpose, so it is refused there.
  const what = b.action === 'buy' || b.action === 'sell' ? `a ${intent} intent` : `action ${b.action}`;
  refuseWhereNotApplicable(trade.intent, [
    ['quantity', b.quantity, 'entry'], [names.quantityType, b.quantity_type, 'entry'], [names.takeProfit, b.take_profit, 'entry'], [names.stopLoss, b.stop_loss, 'entry'],
    [names.orderType, b.order_type, 'order'], [names.limitPrice, b.limit_price, 'order'], [names.stopPrice, b.stop_price, 'order'],
    [names.trailAmount, b.trail_amount, 'order'], [names.trailPercent, b.trail_percent, 'order'], [names.timeInForce, b.time_in_force, 'order'],
  ], what);
  const order = orderPart(
    { orderType: b.order_type, limitPrice: b.limit_price, stopPrice: b.stop_price, trailAmount: b.trail_amount, trailPercent: b.trail_percent, timeInForce: b.time_in_force },
    b.take_profit, b.stop_loss === undefined ? undefined : { ...b.stop_loss, limitPrice: b.stop_loss.limit_price }, trade, names,
  );
  return build(
    'TRADINGVIEW',
    ctx,
    { strategy: b.strategy, symbolRaw: b.ticker, symbolField: 'ticker', trade, order },
    { price: b.price ?? null, reportedPosition: reported, externalOrderId: b.order_id ?? null, alertTime: b.time ?? null, bodyKey: b.idempotency_key, extras },
  );
}

/** A signed strategy runtime's order intent. Each intent takes exactly its own fields. */
export function signedSignal(body: unknown, ctx: SignalContext): Signal {
  const b = check(signedSchema, body);
  let trade: Trade;
  switch (b.intent) {
    case 'delta':
    case 'add':
      if (b.intent === 'delta' && b.side === undefined) throw invalidField('side', 'required for a delta intent');
      if (b.intent === 'add' && b.side !== undefined) throw invalidField('side', 'not for an add intent: it adds in the direction of the position');
      if (b.quantity === undefined) throw invalidField('quantity', `required for a${b.intent === 'add' ? 'n add' : ' delta'} intent`);
      if (b.target !== undefined) throw invalidField('target', 'only for a target intent');
      trade = entry(
        b.intent === 'add' ? 'ADD' : 'DELTA',
        b.side === undefined ? null : side(b.side),
        b.quantity,
        sizingOf(b.quantityType, b.quantity, b.stopLoss !== undefined, CAMEL),
      );
      break;
    case 'target':
      if (b.target === undefined) throw invalidField('target', 'required for a target intent');
      if (b.side !== undefined) throw invalidField('side', 'only for a delta intent');
      if (b.quantity !== undefined) throw invalidField('quantity', 'only for a delta intent');
      trade = b.target === 0 ? FLAT : { intent: 'TARGET', side: null, quantity: Math.abs(b.target), targetPosition: b.target, sizing: null };
      break;
    case 'flat':
    case 'exit':
    case 'cancel':
      for (const k of ['side', 'quantity', 'target'] as const) if (b[k] !== undefined) throw invalidField(k, `not for a${b.intent === 'exit' ? 'n' : ''} ${b.intent} intent`);
      trade = b.intent === 'cancel' ? CANCEL : FLAT;
      break;
    default: {
      const never: never = b.intent;
      throw new Error(`unhandled intent ${String(never)}`);
    }
  }
  refuseWhereNotApplicable(trade.intent, [
    ['quantityType', b.quantityType, 'entry'], ['takeProfit', b.takeProfit, 'entry'], ['stopLoss', b.stopLoss, 'entry'],
    ['orderType', b.orderType, 'order'], ['limitPrice', b.limitPrice, 'order'], ['stopPrice', b.stopPrice, 'order'],
    ['trailAmount', b.trailAmount, 'order'], ['trailPercent', b.trailPercent, 'order'], ['timeInForce', b.timeInForce, 'order'],
  ], `a${b.intent === 'exit' || b.intent === 'add' ? 'n' : ''} ${b.intent} intent`);
  const order = orderPart(
    { orderType: b.orderType, limitPrice: b.limitPrice, stopPrice: b.stopPrice, trailAmount: b.trailAmount, trailPercent: b.trailPercent, timeInForce: b.timeInForce },
    b.takeProfit, b.stopLoss, trade, CAMEL,
  );
  return build(
    'SIGNED',
    ctx,
    { strategy: b.strategy, symbolRaw: b.symbol, symbolField: 'symbol', trade, order },
    { price: b.price ?? null, reportedPosition: null, externalOrderId: null, alertTime: b.time ?? null, bodyKey: b.idempotencyKey, extras: null },
  );
}

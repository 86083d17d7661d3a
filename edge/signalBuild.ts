// Parsed alert fields → Signal: the symbol's normal form, the trade an intent amounts to, and the
// idempotency id that makes the same alert fired twice one record. Pure; the two parsers in signal.ts
// (TradingView alerts, signed intents) both end here, so both mint ids and check strategies the same way.
import { createHash } from 'node:crypto';
import type { Intent, Side, Signal, SignalSource, Sizing } from '../schemas/types.ts';
import type { OrderPart } from './alertTerms.ts';
import type { StrategyConfig } from './config.ts';
import { invalidField } from './errors.ts';

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** Upper-case and drop a TradingView exchange prefix (`BINANCE:BTCUSDT` → `BTCUSDT`). Suffixes such as `.P` are kept: mapping is the connectors' job. */
export function normaliseSymbol(raw: string): string | null {
  // Checked before upper-casing: Unicode case mapping turns 'ſpy' into SPY and 'ﬁ' into FI, so a
  // non-ASCII ticker would otherwise trade a different, real instrument instead of being refused.
  if (!/^[\x21-\x7e]+$/.test(raw)) return null;
  const upper = raw.toUpperCase();
  const m = /^(?:[A-Z0-9_]+:)?([A-Z0-9][A-Z0-9._/!-]{0,31})$/.exec(upper);
  return m ? m[1] : null;
}

export interface SignalContext {
  /** The strategy auth resolved; the account comes from here, never from the body. */
  strategy: Pick<StrategyConfig, 'id' | 'account' | 'symbols'>;
  /** The Idempotency-Key header, if sent: accepted only when it repeats the body's key. */
  idempotencyKey?: string | undefined;
  receivedAt: number;
  hlc: number;
}

export interface Trade {
  intent: Intent;
  side: Side | null;
  quantity: number;
  targetPosition: number | null;
  sizing: Sizing | null;
}

export const FLAT: Trade = { intent: 'FLAT', side: null, quantity: 0, targetPosition: 0, sizing: null };
export const CANCEL: Trade = { intent: 'CANCEL', side: null, quantity: 0, targetPosition: null, sizing: null };
export const side = (s: 'buy' | 'sell'): Side => (s === 'buy' ? 'BUY' : 'SELL');

export type IdFields = Omit<Signal, 'signalId' | 'source' | 'account' | 'reportedPosition' | 'receivedAt' | 'hlc' | 'extras'>;

/**
 * Same id for the same alert fired twice. A caller's key is scoped by strategy so two strategies (and
 * so two accounts) reusing a key can never collide on the compacted, account-partitioned topic.
 */
export function signalIdFor(s: IdFields, key: string | undefined): string {
  if (key !== undefined) return `${s.strategy}:${key}`;
  const fields: unknown[] = [
    s.strategy, s.symbol, s.intent, s.side, s.quantity, s.targetPosition,
    s.orderType, s.limitPrice, s.externalOrderId, s.alertTime, s.price,
  ];
  // Fields added later join only when set, so an alert that does not use them keeps the id it always had.
  const later = [s.stopPrice, s.trailAmount, s.trailPercent, s.timeInForce, s.sizing, s.takeProfit, s.stopLoss];
  if (later.some((v) => v !== null)) fields.push(...later);
  return createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('hex');
}

/**
 * The idempotency id decides what counts as a new order, so it comes from authenticated bytes only:
 * the body (signed, or carrying the secret). The header is covered by neither, so a captured request
 * resent with a new header each time would become a new signal each time; a header is accepted only
 * as an echo of the body's key.
 */
export function idempotencyKeyOf(ctx: SignalContext, bodyKey: string | undefined, bodyField: string): string | undefined {
  const k = ctx.idempotencyKey;
  if (k === undefined) return bodyKey;
  if (!IDEMPOTENCY_KEY.test(k)) throw invalidField('Idempotency-Key', 'must be 1-128 of A-Z a-z 0-9 . _ : / + = -');
  if (k !== bodyKey) throw invalidField('Idempotency-Key', `not authenticated: put the key in the body's ${bodyField} (the header may only repeat it)`);
  return k;
}

export function build(
  source: SignalSource,
  ctx: SignalContext,
  f: { strategy: string; symbolRaw: string; symbolField: string; trade: Trade; order: OrderPart },
  rest: { price: number | null; reportedPosition: number | null; externalOrderId: string | null; alertTime: number | null; bodyKey: string | undefined; extras: Record<string, string> | null },
): Signal {
  if (f.strategy !== ctx.strategy.id) throw invalidField('strategy', 'does not match the authenticated strategy');
  const symbol = normaliseSymbol(f.symbolRaw);
  if (symbol === null) throw invalidField(f.symbolField, 'not a symbol');
  if (ctx.strategy.symbols && !ctx.strategy.symbols.includes(symbol)) throw invalidField(f.symbolField, 'symbol not enabled for this strategy');
  const t = f.order.terms;
  const core: IdFields = {
    strategy: ctx.strategy.id,
    symbol,
    intent: f.trade.intent,
    side: f.trade.side,
    quantity: f.trade.quantity,
    targetPosition: f.trade.targetPosition,
    orderType: t.orderType,
    limitPrice: t.limitPrice,
    price: rest.price,
    externalOrderId: rest.externalOrderId,
    alertTime: rest.alertTime,
    stopPrice: t.stopPrice,
    trailAmount: t.trailAmount,
    trailPercent: t.trailPercent,
    timeInForce: t.timeInForce,
    sizing: f.trade.sizing,
    takeProfit: f.order.takeProfit,
    stopLoss: f.order.stopLoss,
  };
  return {
    signalId: signalIdFor(core, idempotencyKeyOf(ctx, rest.bodyKey, source === 'SIGNED' ? 'idempotencyKey' : 'idempotency_key')),
    source,
    account: ctx.strategy.account,
    ...core,
    reportedPosition: rest.reportedPosition,
    receivedAt: ctx.receivedAt,
    hlc: ctx.hlc,
    extras: rest.extras,
  };
}

/** A delta or an add: a fixed size, or an amount of money or risk that decide turns into a size. */
export function entry(intent: 'DELTA' | 'ADD', s: Side | null, amount: number, sizing: Sizing | null): Trade {
  return { intent, side: s, quantity: sizing === null ? amount : 0, targetPosition: null, sizing };
}

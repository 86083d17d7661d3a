// The live feed's core, pure: what the desk sees of each record on `risk-decisions`, `orders`,
// `executions` and `control`, and the folds that keep the recent orders, venue figures and trading
// states current. The hub (hub.ts) calls these with decoded records; nothing here does I/O.
import type { Control, ExecutionReport, Order, RiskDecision } from '../../schemas/types.ts';

export interface DecisionView {
  decisionId: string; signalId: string; account: string; strategy: string; symbol: string;
  verdict: RiskDecision['verdict']; reason: string | null; detail: string | null;
  side: string | null; quantity: number; venue: string | null; orderId: string | null; decidedAt: number;
}

export type OrderStatus = 'NEW' | 'ACKNOWLEDGED' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED';

export interface OrderView {
  orderId: string; clientOrderId: string; account: string; strategy: string; symbol: string; venue: string;
  side: string; quantity: number; orderType: string; limitPrice: number | null;
  createdAt: number; status: OrderStatus; filledQty: number; avgPrice: number | null; reason: string | null; updatedAt: number;
}

export interface FillView {
  executionId: string; orderId: string; type: ExecutionReport['type']; account: string; strategy: string; symbol: string; venue: string;
  side: string; qty: number; price: number; fee: number; refExecutionId: string | null; venueTime: number | null; recordedAt: number;
}

export interface StateView { scope: string; target: string; state: string; reason: string | null; actor: string; at: number }

export const decisionView = (d: RiskDecision): DecisionView => ({
  decisionId: d.decisionId, signalId: d.signalId, account: d.account, strategy: d.strategy, symbol: d.symbol,
  verdict: d.verdict, reason: d.reason, detail: d.detail, side: d.side, quantity: d.quantity, venue: d.venue, orderId: d.orderId, decidedAt: d.decidedAt,
});

export const orderView = (o: Order): OrderView => ({
  orderId: o.orderId, clientOrderId: o.clientOrderId, account: o.account, strategy: o.strategy, symbol: o.symbol, venue: o.venue,
  side: o.side, quantity: o.quantity, orderType: o.orderType, limitPrice: o.limitPrice,
  createdAt: o.createdAt, status: 'NEW', filledQty: 0, avgPrice: null, reason: null, updatedAt: o.createdAt,
});

export const isFillLike = (t: ExecutionReport['type']): boolean => t === 'FILL' || t === 'PARTIAL_FILL' || t === 'CORRECTION' || t === 'BUST';

export const fillView = (e: ExecutionReport): FillView => ({
  executionId: e.executionId, orderId: e.orderId, type: e.type, account: e.account, strategy: e.strategy, symbol: e.symbol, venue: e.venue,
  side: e.side, qty: e.lastQty, price: e.lastPrice, fee: e.fee, refExecutionId: e.refExecutionId, venueTime: e.venueTime, recordedAt: e.recordedAt,
});

/**
 * An order's status after one more report. A report for an order the feed never saw (older than the
 * window it read) starts a row from the report itself. Amendments leave the order's status alone:
 * the fills table shows them, and positions (Postgres) account for them.
 */
export function applyExecution(o: OrderView | undefined, e: ExecutionReport): OrderView {
  const base: OrderView = o ?? {
    orderId: e.orderId, clientOrderId: e.clientOrderId, account: e.account, strategy: e.strategy, symbol: e.symbol, venue: e.venue,
    side: e.side, quantity: e.cumQty + e.leavesQty, orderType: '?', limitPrice: null, createdAt: e.recordedAt,
    status: 'NEW', filledQty: 0, avgPrice: null, reason: null, updatedAt: e.recordedAt,
  };
  const next = { ...base, updatedAt: Math.max(base.updatedAt, e.recordedAt) };
  switch (e.type) {
    case 'ACK':
      if (next.status === 'NEW') next.status = 'ACKNOWLEDGED';
      return next;
    case 'PARTIAL_FILL':
    case 'FILL': {
      if (e.lastQty > 0) {
        const filled = next.filledQty + e.lastQty;
        next.avgPrice = ((next.avgPrice ?? 0) * next.filledQty + e.lastPrice * e.lastQty) / filled;
        next.filledQty = filled;
      }
      next.status = e.type === 'FILL' || e.leavesQty <= 0 ? 'FILLED' : 'PARTIALLY_FILLED';
      return next;
    }
    case 'CANCEL':
      if (next.status !== 'FILLED') next.status = 'CANCELED';
      next.reason = e.reason;
      return next;
    case 'REJECT':
      next.status = 'REJECTED';
      next.reason = e.reason;
      return next;
    case 'CORRECTION':
    case 'BUST':
      return next;
    default: {
      const never: never = e.type;
      throw new Error(`unhandled execution type ${String(never)}`);
    }
  }
}

/** Trading states as the processors see them: the latest TRADING_STATE record per scope and target. */
export function applyControl(states: readonly StateView[], c: Control): StateView[] | null {
  if (c.kind !== 'TRADING_STATE') return null;
  const rest = states.filter((s) => !(s.scope === c.scope && s.target === c.target));
  if (c.state === null) return rest.length === states.length ? null : rest;
  return [...rest, { scope: c.scope, target: c.target, state: c.state, reason: c.reason, actor: c.actor, at: c.at }]
    .sort((a, b) => a.scope.localeCompare(b.scope) || a.target.localeCompare(b.target));
}

// ---- venue health ----

/** What the feed learns of a venue from its own records: order → ACK time and the share of rejects. */
export interface VenueStats {
  venue: string;
  /** Latest ACK latency samples (our wall clocks at decide and at the connector), newest last. */
  ackMs: number[];
  /** Latest outcomes: true for a reject, newest last. */
  outcomes: boolean[];
  lastFillAt: number | null;
}

export const STATS_WINDOW = 100;

const push = <T>(xs: readonly T[], x: T): T[] => [...xs.slice(Math.max(0, xs.length - STATS_WINDOW + 1)), x];

export function applyVenueStats(s: VenueStats | undefined, e: ExecutionReport, order: OrderView | undefined): VenueStats {
  const cur = s ?? { venue: e.venue, ackMs: [], outcomes: [], lastFillAt: null };
  switch (e.type) {
    case 'ACK':
      return {
        ...cur,
        ackMs: order && order.orderType !== '?' ? push(cur.ackMs, Math.max(0, e.recordedAt - order.createdAt)) : cur.ackMs,
        outcomes: push(cur.outcomes, false),
      };
    case 'REJECT':
      return { ...cur, outcomes: push(cur.outcomes, true) };
    case 'FILL':
    case 'PARTIAL_FILL':
      return { ...cur, lastFillAt: Math.max(cur.lastFillAt ?? 0, e.recordedAt) };
    default:
      return cur;
  }
}

export const percentile = (xs: readonly number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

export interface ConnectorReport { state: string; reason: string | null; streamSilent: boolean; probeMs: number | null; probeUp: boolean | null; probeDetail: string | null }

export interface VenueView {
  venue: string;
  /** From `control`: the venue's own state (the breaker or ops), and the desk's. */
  state: string; stateReason: string | null;
  ackP50Ms: number | null; ackP99Ms: number | null; errorRate: number | null; samples: number; lastFillAt: number | null;
  /** Only when the connector runs in this process. */
  connector: ConnectorReport | null;
}

export function venueViews(venues: readonly string[], stats: ReadonlyMap<string, VenueStats>, states: readonly StateView[], connectors: ReadonlyMap<string, ConnectorReport>): VenueView[] {
  const names = [...new Set([...venues, ...stats.keys(), ...states.filter((s) => s.scope === 'VENUE').map((s) => s.target)])].sort();
  const desk = states.find((s) => s.scope === 'DESK');
  return names.map((venue) => {
    const s = stats.get(venue);
    const own = states.find((x) => x.scope === 'VENUE' && x.target === venue);
    const worst = [own, desk].find((x) => x?.state === 'HALTED') ?? [own, desk].find((x) => x?.state === 'REDUCING') ?? own;
    const rejects = s ? s.outcomes.filter(Boolean).length : 0;
    return {
      venue,
      state: worst?.state ?? 'ACTIVE',
      stateReason: worst ? `${worst.scope === 'DESK' ? 'desk: ' : ''}${worst.reason ?? worst.actor}` : null,
      ackP50Ms: s ? percentile(s.ackMs, 50) : null,
      ackP99Ms: s ? percentile(s.ackMs, 99) : null,
      errorRate: s && s.outcomes.length > 0 ? rejects / s.outcomes.length : null,
      samples: s?.outcomes.length ?? 0,
      lastFillAt: s?.lastFillAt ?? null,
      connector: connectors.get(venue) ?? null,
    };
  });
}

/** Keeps the newest `max` entries of a list ordered oldest first. */
export const keepLast = <T>(xs: readonly T[], max: number): T[] => (xs.length <= max ? [...xs] : xs.slice(xs.length - max));

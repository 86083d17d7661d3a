// A backtest in process, pure: recorded quotes in time order → the strategy (through the same host as
// the live runtime) → the edge's own signal parser → the same `decide` and `evolveGate` as the decide
// processor → the paper matching engine → fills back to the gate and the strategy. The only clock is
// the quotes' time; ids derive from the signal id as in the processor. Same quotes, same strategy,
// same config: the same records, byte for byte.
import { createHash } from 'node:crypto';
import { signedSignal } from '../signal.ts';
import type { ExecutionReport, Order, Quote, RiskDecision, Signal } from '../../schemas/types.ts';
import { evolveOrder, initialBracketState, onExecution as bracketsOnExecution } from '../../streams/brackets/core.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl } from '../../streams/decide/controlFold.ts';
import { decide, decidedEvent } from '../../streams/decide/decide.ts';
import { evolveGate, initialGateState, utcDay } from '../../streams/decide/state.ts';
import { quoteTime } from '../../streams/router/costModel.ts';
import { createHlc } from '../../schemas/hlc.ts';
import type { Strategy } from '../strategies/api.ts';
import { createStrategyHost, type SignalBody } from '../strategies/host.ts';
import { createSimVenue } from './simVenue.ts';

export interface BacktestOptions {
  strategy: Strategy<unknown>;
  /** The account the strategy trades for (its entry in ORDER_ROUTER_STRATEGIES, or a backtest account). */
  account: string;
  config: ControlConfig;
}

/** A signal the edge would have refused (HTTP 400), with the field it named. */
export interface Refusal { at: number; idempotencyKey: string; field: string; message: string }

export type OutputRecord =
  | { kind: 'signal'; value: Signal }
  | { kind: 'refused'; value: Refusal }
  | { kind: 'decision'; value: RiskDecision }
  | { kind: 'order'; value: Order }
  | { kind: 'execution'; value: ExecutionReport };

export interface BacktestRun {
  /** Feeds the next quote (in time order; an earlier one keeps the clock where it is). */
  quote(q: Quote): void;
  /** Ends the run: cancels what still rests on the books. */
  finish(): void;
  /** Everything written so far, in the order it happened. */
  records(): readonly OutputRecord[];
  stats(): { quotes: number; signals: number; refused: number; approved: number; fills: number };
}

// A strategy that answers every fill with another signal could loop within one instant; a live one
// would be stopped by the rate limit, a backtest by this.
const MAX_SIGNALS_PER_STEP = 10_000;

const idsFor = (signalId: string) => {
  const h = createHash('sha256').update(signalId).digest('hex').slice(0, 32);
  return { decisionId: `dec-${h}`, orderId: `ord-${h}` };
};

export function startBacktest(o: BacktestOptions): BacktestRun {
  let now = 0;
  let config = o.config;
  const state = initialGateState();
  const hlc = createHlc(() => now);
  const nextHlc = () => hlc.now();
  const venue = createSimVenue(config);
  const out: OutputRecord[] = [];
  const pending: SignalBody[] = [];
  const stats = { quotes: 0, signals: 0, refused: 0, approved: 0, fills: 0 };
  const host = createStrategyHost(o.strategy, { submit: (b) => pending.push(b) });
  const profile = { id: o.strategy.id, account: o.account };
  let day: string | null = null;
  // Bracket exits as live (streams/brackets/core.ts): placed per fill of their entry, one cancels the other.
  const brackets = initialBracketState();
  const tick = (v: string, symbol: string) => config.costModel.ranked.find((r) => r.name === v)?.model.instruments.get(symbol)?.tickSize ?? 0;

  function executions(reports: readonly ExecutionReport[]): void {
    for (const r of reports) {
      out.push({ kind: 'execution', value: r });
      evolveGate(state, { kind: 'execution', report: r }, config.costModel.ewmaAlpha);
      const exits = bracketsOnExecution(brackets, { report: r, now, hlc: nextHlc(), tick });
      for (const c of exits.cancels) executions(venue.cancel(c.orderId, now, nextHlc));
      for (const x of exits.orders) {
        out.push({ kind: 'order', value: x });
        executions(venue.submit(x, now, nextHlc));
      }
      if (r.type === 'FILL' || r.type === 'PARTIAL_FILL') {
        stats.fills += 1;
        host.fill({
          executionId: r.executionId, orderId: r.orderId, symbol: r.symbol, venue: r.venue, side: r.side,
          quantity: r.lastQty, price: r.lastPrice, fee: r.fee, time: now,
        });
      }
    }
  }

  function drain(): void {
    let n = 0;
    while (pending.length > 0) {
      if (++n > MAX_SIGNALS_PER_STEP) throw new Error(`strategy ${o.strategy.id} submitted more than ${MAX_SIGNALS_PER_STEP} signals at ${new Date(now).toISOString()}`);
      const body = pending.shift()!;
      let signal: Signal;
      try {
        signal = signedSignal(JSON.parse(JSON.stringify(body)), { strategy: profile, receivedAt: now, hlc: nextHlc() });
      } catch (e) {
        const field = (e as { field?: string }).field ?? 'body';
        stats.refused += 1;
        out.push({ kind: 'refused', value: { at: now, idempotencyKey: body.idempotencyKey, field, message: (e as Error).message } });
        continue;
      }
      stats.signals += 1;
      out.push({ kind: 'signal', value: signal });
      const input = { signal, now, hlc: nextHlc(), ...idsFor(signal.signalId) };
      const result = decide(input, state, config);
      evolveGate(state, decidedEvent(input, result), config.costModel.ewmaAlpha);
      for (const c of result.controls) config = applyControl(config, c);
      out.push({ kind: 'decision', value: result.decision });
      for (const t of result.cancels) executions(venue.cancel(t.orderId, now, nextHlc));
      if (result.order !== null) {
        stats.approved += 1;
        out.push({ kind: 'order', value: result.order });
        evolveOrder(brackets, result.order);
        executions(venue.submit(result.order, now, nextHlc));
      }
    }
  }

  function advanceTo(t: number): void {
    if (t <= now) return;
    now = t;
    const today = utcDay(now);
    if (day !== today) {
      evolveGate(state, { kind: 'dayRoll', day: today });
      if (day !== null) executions(venue.expire(today, now, nextHlc));
      day = today;
    }
    host.advance(now); // timers due before this instant
    drain();
  }

  return {
    quote(q) {
      stats.quotes += 1;
      advanceTo(quoteTime(q));
      evolveGate(state, { kind: 'quote', quote: q });
      executions(venue.quote(q, now, nextHlc));
      drain();
      host.quote({ venue: q.venue, symbol: q.symbol, bid: q.bid, ask: q.ask, bidSize: q.bidSize, askSize: q.askSize, time: now });
      drain();
    },
    finish() {
      executions(venue.close(now, nextHlc));
    },
    records: () => out,
    stats: () => ({ ...stats }),
  };
}

/** One JSON line per record, keys in schema order: the bytes the determinism check hashes. */
export function outputLines(records: readonly OutputRecord[]): string {
  let s = '';
  for (const r of records) s += `${JSON.stringify(r)}\n`;
  return s;
}

export const outputHash = (records: readonly OutputRecord[]): string => createHash('sha256').update(outputLines(records)).digest('hex');

// The risk + route decision in process: `decide` (sizing, routing over the cost model, every risk
// check) and `evolveGate` folding the decision back, timed together per signal with
// process.hrtime.bigint() into an HDR histogram (nanosecond resolution). One core, no I/O.
// Fills, cancels, quotes and day rolls keep the books realistic and bounded; they run between the
// timed sections. Run alone: `node scripts/bench/decide.ts` prints the JSON.
import hdr from 'hdr-histogram-js';
import type { ExecutionReport, Order, Quote, Signal } from '../../schemas/types.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { decide, decidedEvent } from '../../streams/decide/decide.ts';
import { evolveGate, initialGateState, utcDay } from '../../streams/decide/state.ts';

export interface DecideBenchOptions {
  /** Timed decisions (after the warm-up). */
  n?: number;
  warmup?: number;
  accounts?: number;
  seed?: number;
}

export interface DecideBenchResult {
  /** n / Σ(timed wall time): what one core sustains when the process has it to itself. */
  opsPerSec: number;
  /**
   * n / CPU seconds of the whole measured loop, untimed bookkeeping included (so a lower bound):
   * unlike wall time it does not count the moments another process had the core.
   */
  opsPerCpuSec: number;
  p50us: number; p99us: number; p999us: number; maxus: number; n: number; approvedShare: number;
}

const SYMBOLS: readonly { symbol: string; mid: number; qty: number }[] = [
  { symbol: 'AAPL', mid: 190, qty: 10 },
  { symbol: 'MSFT', mid: 410, qty: 5 },
  { symbol: 'BTCUSD', mid: 65_000, qty: 0.01 },
  { symbol: 'ETHUSD', mid: 3_200, qty: 0.2 },
  { symbol: 'EURUSD', mid: 1.08, qty: 10_000 },
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function benchDecide(opts: DecideBenchOptions = {}): Promise<DecideBenchResult> {
  const n = opts.n ?? 1_000_000;
  const warmup = opts.warmup ?? 200_000;
  const accounts = opts.accounts ?? 200;
  const random = rng(opts.seed ?? 42);
  const state = initialGateState();
  // Limits a busy desk would run with: the rate limit must not turn most signals into cheap denials.
  const config = applyControl(defaultControlConfig(), {
    controlId: 'bench', kind: 'LIMITS', scope: 'DESK', target: '*', state: null, actor: 'bench', reason: null, at: 0, hlc: 0,
    payload: JSON.stringify({ maxOrdersPerMinute: 1_000_000, maxGrossExposure: 1e12, maxOrderNotional: 1e9 }),
  });
  let now = Date.UTC(2024, 0, 2, 14, 0, 0);
  evolveGate(state, { kind: 'dayRoll', day: utcDay(now) });
  let seq = 0;

  const quote = (symbol: string, mid: number) => {
    const spread = mid * 0.0002;
    const q: Quote = { venue: 'paper', symbol, bid: mid - spread / 2, ask: mid + spread / 2, bidSize: 1e6, askSize: 1e6, venueTime: now, hlc: now * 1000 };
    evolveGate(state, { kind: 'quote', quote: q });
  };
  const requote = () => { for (const s of SYMBOLS) quote(s.symbol, s.mid * (1 + (random() - 0.5) * 0.002)); };

  const execution = (order: Order, type: ExecutionReport['type']) => {
    const qty = type === 'FILL' ? order.quantity : 0;
    const report: ExecutionReport = {
      executionId: `x${++seq}`, type, orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: null, venueTradeId: null,
      signalId: order.signalId, account: order.account, strategy: order.strategy, symbol: order.symbol, venue: order.venue, side: order.side,
      lastQty: qty, lastPrice: qty > 0 ? order.arrivalMid ?? 100 : 0, cumQty: qty, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
      venueTime: now, recordedAt: now, hlc: now * 1000,
    };
    evolveGate(state, { kind: 'execution', report, order }, config.costModel.ewmaAlpha);
  };

  const signal = (): Signal => {
    const a = Math.floor(random() * accounts);
    const s = SYMBOLS[Math.floor(random() * SYMBOLS.length)];
    const delta = random() < 0.5;
    const side = random() < 0.5 ? 'BUY' : 'SELL';
    return {
      signalId: `sig-${++seq}`, source: 'SIGNED', account: `ACC-${a}`, strategy: `strat-${a}`, symbol: s.symbol,
      intent: delta ? 'DELTA' : 'TARGET', side: delta ? side : null, quantity: s.qty,
      targetPosition: delta ? null : Math.round((random() - 0.5) * 10) * s.qty, orderType: 'MARKET', limitPrice: null, price: s.mid,
      reportedPosition: null, externalOrderId: null, alertTime: now - 50, receivedAt: now - 40, hlc: (now - 40) * 1000, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null,
    };
  };

  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e9, numberOfSignificantValueDigits: 3 });
  let timedNs = 0n;
  let approved = 0;
  requote();
  let cpuFrom: NodeJS.CpuUsage | null = null;
  for (let i = 0; i < warmup + n; i++) {
    if (i === warmup) cpuFrom = process.cpuUsage();
    // Untimed: the clock moves, quotes refresh, working orders fill (1 in 20) or are cancelled.
    now += 1;
    if (i % 500 === 0) requote();
    // A desk's day: the de-duplication sets hold two days of signals, not the whole run.
    if (i % 250_000 === 0 && i > 0) {
      now += 86_400_000;
      evolveGate(state, { kind: 'dayRoll', day: utcDay(now) });
      requote();
    }
    const input = { signal: signal(), now, decisionId: `dec-${seq}`, orderId: `ord-${seq}`, hlc: now * 1000 };

    const t0 = process.hrtime.bigint();
    const result = decide(input, state, config);
    evolveGate(state, decidedEvent(input, result), config.costModel.ewmaAlpha);
    const dt = process.hrtime.bigint() - t0;

    if (result.order !== null) execution(result.order, random() < 0.05 ? 'FILL' : 'CANCEL');
    if (i >= warmup) {
      histogram.recordValue(Number(dt));
      timedNs += dt;
      if (result.order !== null) approved += 1;
    }
  }
  const cpu = process.cpuUsage(cpuFrom ?? undefined);
  const us = (ns: number) => Math.round(ns) / 1000;
  const result = {
    opsPerSec: Math.round(n / (Number(timedNs) / 1e9)),
    opsPerCpuSec: Math.round(n / ((cpu.user + cpu.system) / 1e6)),
    p50us: us(histogram.getValueAtPercentile(50)),
    p99us: us(histogram.getValueAtPercentile(99)),
    p999us: us(histogram.getValueAtPercentile(99.9)),
    maxus: us(histogram.maxValue),
    n,
    approvedShare: Math.round((approved / n) * 1000) / 1000,
  };
  histogram.destroy();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.env.BENCH_DECIDE_N ? Number(process.env.BENCH_DECIDE_N) : undefined;
  console.log(JSON.stringify(await benchDecide({ n }), null, 2));
}

// Property: duplicated, late and reordered TARGET alerts, with random partial fills and cancels in
// between, never push the position past the target or flip it against the target.
// Seeded: set PROPERTY_SEED to replay a failure; every failure message prints the seed of its run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecType, Order, Signal } from '../../schemas/types.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { decide, decidedEvent } from '../../streams/decide/decide.ts';
import { evolveGate, initialGateState, type GateState } from '../../streams/decide/state.ts';
import { sizeIntent } from '../../streams/decide/intent.ts';

const BASE_SEED = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31);
const RUNS = 300;
const EXPECTED_REASONS = new Set([null, 'AT_TARGET', 'DUPLICATE_SIGNAL', 'OUT_OF_ORDER_SIGNAL']);

/** mulberry32: small, fast, good enough to drive a property test. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const int = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/** One account trading AAPL on paper, with a venue that fills, part-fills and cancels at random. */
class World {
  readonly state: GateState = initialGateState();
  config: ControlConfig;
  now = 1_700_000_000_000;
  readonly working = new Map<string, { order: Order; leaves: number }>();
  approved = 0;
  private seq = 0;

  readonly seed: number;
  readonly rng: () => number;
  constructor(seed: number, rng: () => number) {
    this.seed = seed;
    this.rng = rng;
    this.config = applyControl(defaultControlConfig(), {
      controlId: 'limits', kind: 'LIMITS', scope: 'DESK', target: '*', state: null, actor: 'test', reason: null, at: 0, hlc: 0,
      payload: JSON.stringify({ maxSignalAgeMs: 3_600_000, maxOrdersPerMinute: 100_000, maxOrderNotional: 1e9, maxGrossExposure: 1e12 }),
    });
    this.quote();
  }

  get position(): number {
    return this.state.accounts.get('acc1')?.symbols.get('AAPL')?.position ?? 0;
  }

  get effective(): number {
    const book = this.state.accounts.get('acc1')?.symbols.get('AAPL');
    return book === undefined ? 0 : book.position + book.open;
  }

  quote(): void {
    const q = { venue: 'paper', symbol: 'AAPL', bid: 99.99, ask: 100.01, bidSize: 1e6, askSize: 1e6, venueTime: this.now, hlc: this.now * 1000 };
    evolveGate(this.state, { kind: 'quote', quote: q });
  }

  deliver(signal: Signal): { reason: string | null; order: Order | null } {
    this.now += int(this.rng, 1, 500);
    this.quote();
    const input = { signal, now: this.now, decisionId: `d${++this.seq}`, orderId: `o${this.seq}`, hlc: this.now * 1000 };
    const result = decide(input, this.state, this.config);
    evolveGate(this.state, decidedEvent(input, result));
    assert.ok(EXPECTED_REASONS.has(result.decision.reason), `seed ${this.seed}: unexpected ${result.decision.reason} ${result.decision.detail}`);
    if (result.order !== null) {
      this.approved += 1;
      this.working.set(result.order.orderId, { order: result.order, leaves: result.order.quantity });
    }
    return { reason: result.decision.reason, order: result.order };
  }

  /** The venue acts on one working order: a partial fill, a full fill, or a cancel of the rest. */
  venueStep(orderId?: string): void {
    const ids = [...this.working.keys()];
    if (ids.length === 0) return;
    const id = orderId ?? ids[int(this.rng, 0, ids.length - 1)];
    const w = this.working.get(id)!;
    const roll = this.rng();
    const type: ExecType = roll < 0.5 ? 'PARTIAL_FILL' : roll < 0.8 ? 'FILL' : 'CANCEL';
    const qty = type === 'FILL' ? w.leaves : type === 'PARTIAL_FILL' ? int(this.rng, 1, w.leaves) : 0;
    this.execute(w.order, type === 'PARTIAL_FILL' && qty === w.leaves ? 'FILL' : type, qty, w.leaves - qty);
    w.leaves -= qty;
    if (w.leaves === 0 || type === 'CANCEL') this.working.delete(id);
  }

  private execute(order: Order, type: ExecType, qty: number, leaves: number): void {
    this.seq += 1;
    evolveGate(this.state, {
      kind: 'execution',
      report: {
        executionId: `x${this.seq}`, type, orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: null, venueTradeId: null,
        signalId: order.signalId, account: 'acc1', strategy: 'trend', symbol: 'AAPL', venue: 'paper', side: order.side, lastQty: qty,
        lastPrice: qty > 0 ? 100 : 0, cumQty: 0, leavesQty: type === 'CANCEL' ? 0 : leaves, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
        venueTime: null, recordedAt: this.now, hlc: this.now * 1000,
      },
    });
  }
}

function alert(id: string, target: number, alertTime: number): Signal {
  return {
    signalId: id, source: 'TRADINGVIEW', account: 'acc1', strategy: 'trend', symbol: 'AAPL', intent: 'TARGET', side: null,
    quantity: Math.abs(target), targetPosition: target, orderType: 'MARKET', limitPrice: null, price: 100, reportedPosition: target,
    externalOrderId: null, alertTime, receivedAt: alertTime, hlc: 0, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null,
  };
}

/** Each alert sent 1–3 times (same id, or a re-send under a new id), then shuffled locally, some very late. */
function deliveries(rng: () => number, alerts: Signal[]): Signal[] {
  const copies: { key: number; signal: Signal }[] = [];
  alerts.forEach((a, i) => {
    const n = int(rng, 1, 3);
    for (let k = 0; k < n; k++) {
      const signal = k > 0 && rng() < 0.3 ? { ...a, signalId: `${a.signalId}-resend${k}` } : a;
      const late = rng() < 0.15 ? int(rng, 5, 20) : 0;
      copies.push({ key: i + rng() * 4 + late, signal });
    }
  });
  return copies.sort((x, y) => x.key - y.key).map((c) => c.signal);
}

function between(value: number, a: number, b: number): boolean {
  return value >= Math.min(a, b) - 1e-9 && value <= Math.max(a, b) + 1e-9;
}

describe(`TARGET alerts never overshoot or flip the position (base seed ${BASE_SEED})`, () => {
  it('scaling into one target, with orders working concurrently and partial fills between alerts', () => {
    let approved = 0;
    for (let run = 0; run < RUNS; run++) {
      const seed = BASE_SEED + run;
      const rng = prng(seed);
      const world = new World(seed, rng);
      const target = (rng() < 0.5 ? -1 : 1) * int(rng, 1, 60);
      const steps = int(rng, 1, 5);
      const alerts = Array.from({ length: steps }, (_, i) => alert(`a${i}`, Math.round((target * (i + 1)) / steps), world.now - 10_000 + i * 1_000));
      for (const signal of deliveries(rng, alerts)) {
        world.deliver(signal);
        for (let k = int(rng, 0, 3); k > 0; k--) world.venueStep();
        for (const [name, value] of [['position', world.position], ['position + open', world.effective]] as const) {
          assert.ok(between(value, 0, target), `seed ${seed}: ${name} ${value} left [0, ${target}] after ${signal.signalId}`);
        }
      }
      approved += world.approved;
    }
    assert.ok(approved > RUNS, `the runs exercised real orders (${approved})`);
  });

  it('arbitrary targets, each order filled in parts and its rest cancelled before the next alert', () => {
    for (let run = 0; run < RUNS; run++) {
      const seed = BASE_SEED + 1_000_000 + run;
      const rng = prng(seed);
      const world = new World(seed, rng);
      const alerts = Array.from({ length: int(rng, 1, 8) }, (_, i) => alert(`a${i}`, int(rng, -40, 40), world.now - 10_000 + i * 1_000));
      let newest = -Infinity;
      for (const signal of deliveries(rng, alerts)) {
        const before = world.position;
        const { reason, order } = world.deliver(signal);
        if (reason === null) {
          assert.ok(signal.alertTime! >= newest, `seed ${seed}: approved an alert older than one already decided`);
        }
        if (reason !== 'DUPLICATE_SIGNAL') newest = Math.max(newest, signal.alertTime!);
        if (order === null) {
          assert.equal(world.position, before, `seed ${seed}: no order, yet the position moved`);
          continue;
        }
        const target = signal.targetPosition!;
        while (world.working.has(order.orderId)) {
          world.venueStep(order.orderId);
          assert.ok(between(world.position, before, target), `seed ${seed}: position ${world.position} passed target ${target} from ${before}`);
        }
      }
    }
  });

  it('sizing alone: the order from any position and open quantity lands exactly on the target', () => {
    const seed = BASE_SEED + 2_000_000;
    const rng = prng(seed);
    for (let i = 0; i < 10_000; i++) {
      const effective = int(rng, -100, 100);
      const target = int(rng, -100, 100);
      const sizing = sizeIntent(alert('x', target, 0), effective);
      const after = sizing.kind === 'order' ? effective + (sizing.side === 'BUY' ? sizing.quantity : -sizing.quantity) : effective;
      assert.equal(after, target, `seed ${seed}: from ${effective} towards ${target}`);
    }
  });
});

// Random histories of fills, partial fills, corrections, busts, status noise and replayed duplicates.
// Rerun one case with SEED=<n> node --test test/unit/positionFold.property.test.ts
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ExecType, ExecutionReport, Side } from '../../schemas/types.ts';
import { evolve, evolveEach, evolveInPlace, foldPositions, positionKey, positionRow, type PositionState } from '../../streams/positions/fold.ts';

// mulberry32: tiny, seedable, good enough to drive a generator.
const prng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const ACCOUNTS = ['a1', 'a2'];
const SYMBOLS = ['AAPL', 'BTCUSD'];

function generate(seed: number): ExecutionReport[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  let hlc = 1_000_000;
  const base = (type: ExecType, executionId: string, account: string, symbol: string, side: Side): ExecutionReport => ({
    executionId, type, orderId: `o-${executionId}`, clientOrderId: `c-${executionId}`, venueOrderId: null,
    venueTradeId: null, signalId: 's', account, strategy: 'st', symbol, venue: 'paper', side,
    lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
    venueTime: null, recordedAt: 0, hlc: hlc++,
  });
  // Whole units most of the time; tenths exercise float residue around zero.
  const qty = () => (rnd() < 0.7 ? 1 + int(50) : (1 + int(50)) / 10);
  const price = () => 90 + int(2000) / 100;
  const fee = () => int(100) / 100;

  const fills: ExecutionReport[] = [];
  for (let i = 0, n = 1 + int(25); i < n; i++) {
    const f = base(rnd() < 0.5 ? 'PARTIAL_FILL' : 'FILL', `f${i}`, pick(ACCOUNTS), pick(SYMBOLS), rnd() < 0.5 ? 'BUY' : 'SELL');
    fills.push({ ...f, lastQty: qty(), lastPrice: price(), fee: fee() });
  }
  const events = [...fills];
  const insertAnywhere = (e: ExecutionReport) => events.splice(int(events.length + 1), 0, e);
  for (let i = 0, n = int(10); i < n; i++) {
    const target = pick(fills);
    // Some reference a fill that never comes: they must stay parked, not break anything.
    const ref = rnd() < 0.1 ? `ghost${i}` : target.executionId;
    const a = base(rnd() < 0.6 ? 'CORRECTION' : 'BUST', `x${i}`, target.account, target.symbol, target.side);
    const corrected = a.type === 'CORRECTION'
      ? { lastQty: rnd() < 0.1 ? 0 : qty(), lastPrice: price(), fee: fee() }
      : {};
    insertAnywhere({ ...a, ...corrected, refExecutionId: ref });
  }
  for (let i = 0, n = int(5); i < n; i++) {
    insertAnywhere(base(pick(['ACK', 'REJECT', 'CANCEL'] as const), `n${i}`, pick(ACCOUNTS), pick(SYMBOLS), 'BUY'));
  }
  // Replays: copies of earlier or later events, anywhere, with a fresh hlc as a re-delivery would have.
  for (let i = 0, n = int(8); i < n; i++) insertAnywhere({ ...pick(events), hlc: hlc++ });
  return events;
}

type Positions = Map<string, PositionState>;

function foldIncrementally(events: ExecutionReport[], from: Positions = new Map(), viaJson = false): Positions {
  const m = new Map(from);
  for (const e of events) {
    const k = positionKey(e);
    const next = evolve(m.get(k), e);
    // The projection stores the state as JSON between events; it must survive the trip exactly.
    if (next) m.set(k, viaJson ? (JSON.parse(JSON.stringify(next)) as PositionState) : next);
  }
  return m;
}

/** Independent of the fold: which fills count, with what signed quantity and fee. */
function expectedTotals(events: ExecutionReport[]): Map<string, { qty: number; fees: number; cash: number; gross: number }> {
  const fills = new Map<string, ExecutionReport>();
  const lastAmendment = new Map<string, ExecutionReport>();
  const seenAmendments = new Set<string>();
  for (const e of events) {
    if ((e.type === 'FILL' || e.type === 'PARTIAL_FILL') && !fills.has(e.executionId)) fills.set(e.executionId, e);
    if ((e.type === 'CORRECTION' || e.type === 'BUST') && !seenAmendments.has(e.executionId)) {
      seenAmendments.add(e.executionId);
      lastAmendment.set(e.refExecutionId!, e); // first arrival of each amendment id orders them
    }
  }
  const out = new Map<string, { qty: number; fees: number; cash: number; gross: number }>();
  for (const f of fills.values()) {
    const a = lastAmendment.get(f.executionId);
    const eff = !a ? f : a.type === 'BUST' || a.lastQty <= 0 ? null : a;
    const k = positionKey(f);
    const t = out.get(k) ?? { qty: 0, fees: 0, cash: 0, gross: 0 };
    if (eff) {
      const q = f.side === 'BUY' ? eff.lastQty : -eff.lastQty;
      t.qty += q;
      t.fees += eff.fee;
      t.cash += q * eff.lastPrice;
      t.gross += Math.abs(q * eff.lastPrice);
    }
    out.set(k, t);
  }
  return out;
}

function checkSeed(seed: number): void {
  const events = generate(seed);
  const batch = foldPositions(events);

  // (1) event by event equals the batch fold, also when each state goes through JSON like the projection's.
  const incremental = foldIncrementally(events);
  assert.deepStrictEqual(incremental, batch, 'incremental fold differs from foldPositions');
  assert.deepStrictEqual(foldIncrementally(events, new Map(), true), batch, 'JSON round trip changes the fold');
  for (const [k, s] of batch) assert.deepStrictEqual(positionRow(incremental.get(k)!), positionRow(s));

  // (1b) evolveEach (the projection's batch path) equals chained evolve, from scratch or resumed mid-way,
  // and never touches the state it resumes from.
  const byKey = new Map<string, ExecutionReport[]>();
  for (const e of events) byKey.set(positionKey(e), [...(byKey.get(positionKey(e)) ?? []), e]);
  const each = new Map<string, PositionState>();
  for (const [k, list] of byKey) {
    const cut = Math.floor(list.length / 2);
    const head = evolveEach(undefined, list.slice(0, cut));
    const frozen = structuredClone(head);
    const s = evolveEach(head, list.slice(cut));
    assert.deepStrictEqual(head, frozen, `evolveEach mutated the state it resumed from (${k})`);
    if (s) each.set(k, s);
  }
  assert.deepStrictEqual(each, batch, 'evolveEach differs from foldPositions');

  // (1c) evolveInPlace (the risk gate's books) equals the batch fold, and says changed exactly when evolve would.
  const inPlace = new Map<string, PositionState>();
  for (const e of events) {
    const k = positionKey(e);
    const before = inPlace.get(k);
    const wouldChange = evolve(before, e) !== before;
    const { state, changed } = evolveInPlace(before, e);
    assert.equal(changed, wouldChange, `evolveInPlace and evolve disagree on whether ${e.executionId} changes ${k}`);
    if (state) inPlace.set(k, state);
  }
  assert.deepStrictEqual(inPlace, batch, 'evolveInPlace differs from foldPositions');

  // (2) replaying the whole log again changes nothing, down to object identity.
  for (const e of events) {
    const s = incremental.get(positionKey(e));
    if (s) assert.equal(evolve(s, e), s, `replay of ${e.executionId} changed ${positionKey(e)}`);
  }
  assert.deepStrictEqual(foldPositions([...events, ...events]), batch, 'a replayed log folds differently');

  // (3) quantities and fees equal the effective fills computed here; average cost conserves cash.
  const expected = expectedTotals(events);
  for (const [k, t] of expected) {
    const s = batch.get(k);
    assert.ok(s, `no position for ${k}`);
    assert.ok(Math.abs(s.quantity - t.qty) < 1e-9, `${k}: quantity ${s.quantity} != ${t.qty}`);
    assert.ok(Math.abs(s.fees - t.fees) < 1e-9, `${k}: fees ${s.fees} != ${t.fees}`);
    // realised + open quantity valued at cost = −(net cash paid), whatever the order of fills.
    const gap = s.realizedPnl - s.quantity * s.avgPrice + t.cash;
    assert.ok(Math.abs(gap) < 1e-9 * (1 + t.gross), `${k}: P&L does not conserve cash (gap ${gap})`);
    assert.equal(s.quantity === 0, s.avgPrice === 0, `${k}: avgPrice ${s.avgPrice} with quantity ${s.quantity}`);
  }
  // A position without a fill only parks amendments for fills not seen yet.
  for (const [k, s] of batch) if (!expected.has(k)) assert.ok(s.pendingAmendments.length > 0 && s.quantity === 0, k);
}

it('position fold: incremental = batch, replay-idempotent, quantities match effective fills', () => {
  const seeds = process.env.SEED ? [Number(process.env.SEED)] : Array.from({ length: 500 }, (_, i) => i + 1);
  for (const seed of seeds) {
    try {
      checkSeed(seed);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`failing seed ${seed} (rerun with SEED=${seed}): ${message}`, { cause: err });
    }
  }
});

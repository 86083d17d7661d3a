// The projection's own batch path (projector + core, over the in-memory store) against the fold: random
// logs of fills, partial fills, corrections, busts, status noise and duplicates, cut into random batches
// and delivered with the faults Kafka and Postgres produce (re-delivery, a commit lost after writing, a
// rebalance that voids the caches, a restarted process).
// Rerun one case with SEED=<n> node --test test/unit/projection.property.test.ts
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ExecType, ExecutionReport, Side } from '../../schemas/types.ts';
import { verifyChain } from '../../schemas/hashChain.ts';
import { foldPositions, positionKey, positionRow, refusedByFold } from '../../streams/positions/fold.ts';
import type { IncomingExecution } from '../../streams/projection/core.ts';
import { createMemoryStore, type MemoryStore } from '../../streams/projection/memoryStore.ts';
import { createProjector, type Projector } from '../../streams/projection/projector.ts';

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

// Account → partition, as the account partitioner guarantees.
const ACCOUNTS = ['a0', 'a1', 'a2'];
const SYMBOLS = ['AAPL', 'BTCUSD'];
type Log = Map<number, IncomingExecution[]>;

function generate(rnd: () => number): Log {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  let hlc = 1_700_000_000_000_000;
  const base = (type: ExecType, executionId: string, account: string, symbol: string, side: Side): ExecutionReport => ({
    executionId, type, orderId: `o-${executionId}`, clientOrderId: `c-${executionId}`, venueOrderId: null, venueTradeId: null,
    signalId: 's', account, strategy: pick(['st1', 'st2']), symbol, venue: 'paper', side, lastQty: 0, lastPrice: 0, cumQty: 0,
    leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: rnd() < 0.5 ? null : 1_700_000_000_000 + int(1e6),
    recordedAt: 1_700_000_000_000 + int(1e6), hlc: (hlc += 1 + int(86_400_000_000)),
  });
  const qty = () => (rnd() < 0.7 ? 1 + int(50) : (1 + int(50)) / 10);
  const price = () => 90 + int(2000) / 100;
  const fee = () => int(100) / 100;
  const fills: ExecutionReport[] = [];
  for (let i = 0, n = 1 + int(40); i < n; i++) {
    const f = base(rnd() < 0.5 ? 'PARTIAL_FILL' : 'FILL', `f${i}`, pick(ACCOUNTS), pick(SYMBOLS), rnd() < 0.5 ? 'BUY' : 'SELL');
    fills.push({ ...f, lastQty: qty(), lastPrice: price(), fee: fee() });
  }
  const events = [...fills];
  const insertAnywhere = (e: ExecutionReport) => events.splice(int(events.length + 1), 0, e);
  for (let i = 0, n = int(12); i < n; i++) {
    const target = pick(fills);
    const ref = rnd() < 0.1 ? `ghost${i}` : rnd() < 0.05 ? null : target.executionId; // null: refused by the fold
    const a = base(rnd() < 0.6 ? 'CORRECTION' : 'BUST', `x${i}`, target.account, target.symbol, target.side);
    const corrected = a.type === 'CORRECTION' ? { lastQty: rnd() < 0.1 ? 0 : qty(), lastPrice: price(), fee: fee() } : {};
    insertAnywhere({ ...a, ...corrected, refExecutionId: ref });
  }
  for (let i = 0, n = int(6); i < n; i++) insertAnywhere(base(pick(['ACK', 'REJECT', 'CANCEL'] as const), `n${i}`, pick(ACCOUNTS), pick(SYMBOLS), 'BUY'));
  // A venue's repeat published again: a new offset, a fresh hlc, the same execution id.
  for (let i = 0, n = int(10); i < n; i++) insertAnywhere({ ...pick(events), hlc: (hlc += 1) });
  const log: Log = new Map();
  for (const e of events) {
    const p = ACCOUNTS.indexOf(e.account);
    const list = log.get(p) ?? [];
    list.push({ offset: String(list.length), event: e });
    log.set(p, list);
  }
  return log;
}

/** Delivers the log like a consumer group would, with faults; returns when every partition is projected. */
async function deliver(log: Log, store: MemoryStore, rnd: () => number): Promise<void> {
  const int = (n: number) => Math.floor(rnd() * n);
  // Two instances: a partition moves between them, and a stale cache must not survive the move.
  const instances: Projector[] = [createProjector(store), createProjector(store)];
  const position = new Map([...log.keys()].map((p) => [p, 0]));
  for (let guard = 0; guard < 10_000; guard++) {
    const open = [...position].filter(([p, at]) => at < log.get(p)!.length);
    if (open.length === 0) return;
    const [p, at] = open[int(open.length)];
    const all = log.get(p)!;
    // A re-fetch after a crash starts before what was already projected.
    const start = rnd() < 0.15 ? Math.max(0, at - 1 - int(5)) : at;
    const batch = all.slice(start, start + 1 + int(8));
    const i = rnd() < 0.2 ? 1 : 0;
    const roll = rnd();
    if (roll < 0.1) {
      store.failNextCommit();
      await assert.rejects(instances[i].applyBatch(p, batch));
      continue;
    }
    if (roll < 0.15) {
      // Committed, but the consumer saw an error: Kafka re-delivers from where it last resolved.
      store.loseNextCommitAnswer();
      await assert.rejects(instances[i].applyBatch(p, batch));
      continue;
    }
    if (roll < 0.2) instances[i].reset(); // a rebalance the instance noticed
    if (roll < 0.25) instances[i] = createProjector(store); // a restarted process
    await instances[i].applyBatch(p, batch);
    position.set(p, Math.max(at, start + batch.length));
  }
  throw new Error('delivery did not finish');
}

const allEvents = (log: Log) => [...log.keys()].sort().flatMap((p) => log.get(p)!.map((m) => m.event));

/** The tables, in an order that does not depend on how partitions interleaved. */
const snapshot = (store: MemoryStore) => structuredClone({
  ...store.tables,
  history: [...store.tables.history].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset)),
});

async function checkSeed(seed: number): Promise<void> {
  const rnd = prng(seed);
  const log = generate(rnd);
  const store = createMemoryStore();
  await deliver(log, store, rnd);
  const { tables } = store;

  // (1) the projected positions are the fold of the whole log.
  const folded = foldPositions(allEvents(log).filter((e) => !refusedByFold(e)));
  assert.deepStrictEqual(tables.positions, folded, 'projected states differ from foldPositions');

  // (2) the stored log is each execution id once, at its first offset, and its chain verifies.
  const firsts = new Map<string, string>();
  for (const [p, list] of log) for (const m of list) if (!firsts.has(m.event.executionId)) firsts.set(m.event.executionId, `${p}:${m.offset}`);
  const storedAt = new Map([...tables.executions.values()].flat().map((r) => [r.event.executionId, `${r.partition}:${r.offset}`]));
  assert.deepStrictEqual(new Map([...storedAt].sort()), new Map([...firsts].sort()));
  const chained = [...tables.executions.keys()].sort().flatMap((p) => tables.executions.get(p)!);
  const chain = verifyChain(chained);
  assert.deepStrictEqual(chain.broken, []);

  // (3) history: its last row per position is the position, and the deltas add up to it.
  const sums = new Map<string, { realized: number; fees: number; qty: number; last: (typeof tables.history)[number] }>();
  for (const h of tables.history) {
    const k = positionKey(h);
    const s = sums.get(k) ?? { realized: 0, fees: 0, qty: 0, last: h };
    sums.set(k, { realized: s.realized + h.realizedPnlDelta, fees: s.fees + h.feesDelta, qty: s.qty + h.quantityDelta, last: h });
  }
  assert.deepStrictEqual([...sums.keys()].sort(), [...folded.keys()].sort());
  for (const [k, s] of folded) {
    const row = positionRow(s);
    const h = sums.get(k)!;
    assert.deepStrictEqual([h.last.quantity, h.last.avgPrice, h.last.realizedPnl, h.last.fees], [row.quantity, row.avg_price, row.realized_pnl, row.fees]);
    assert.ok(Math.abs(h.realized - row.realized_pnl) < 1e-6 && Math.abs(h.fees - row.fees) < 1e-6 && Math.abs(h.qty - row.quantity) < 1e-6, `${k}: deltas do not add up`);
  }

  // (4) replaying the whole log again changes nothing; a second projection from scratch is identical, hashes included.
  const before = snapshot(store);
  await deliver(log, store, prng(seed + 1));
  for (const p of log.keys()) await createProjector(store).applyBatch(p, log.get(p)!);
  assert.deepStrictEqual(snapshot(store), before, 'a replay changed the tables');
  const again = createMemoryStore();
  await deliver(log, again, prng(seed * 7 + 3));
  assert.deepStrictEqual(snapshot(again), before, 'another delivery order projected different tables');
}

it('projection batch path: equals foldPositions under re-delivery, lost commits and rebalances; replay-idempotent', async () => {
  const seeds = process.env.SEED ? [Number(process.env.SEED)] : Array.from({ length: 300 }, (_, i) => i + 1);
  for (const seed of seeds) {
    try {
      await checkSeed(seed);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`failing seed ${seed} (rerun with SEED=${seed}): ${message}`, { cause: err });
    }
  }
});

// The dashboard's pure cores: the P&L book and the day's curve, the feed's folds, tickets, lag, the
// store's snapshot-plus-deltas contract, and the page's formatting and chart maths. No services: these
// run in milliseconds beside the browser test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildBook, dayCurve, livePoint, type HistoryRow, type PositionRow } from '../../edge/dashboard/book.ts';
import { applyControl, applyExecution, applyVenueStats, orderView, venueViews, type StateView } from '../../edge/dashboard/feed.ts';
import { lagOf } from '../../edge/dashboard/lag.ts';
import { applyDelta, createStore, type DashboardState, type Delta } from '../../edge/dashboard/store.ts';
import { reconcile } from '../../edge/dashboard/recon.ts';
import { createTickets } from '../../edge/dashboard/ticket.ts';
import type { Control, ExecutionReport, Order } from '../../schemas/types.ts';
import { foldOutcome, listUnknown, outcomeControl, type OrderOutcome } from '../../schemas/orderOutcome.ts';

const pos = (over: Partial<PositionRow>): PositionRow => ({
  account: 'ACC-1', symbol: 'AAPL', venue: 'paper', quantity: 10, avgPrice: 100, realizedPnl: 0, fees: 0, fillCount: 1, updatedAt: '2026-01-01T00:00:00.000Z', ...over,
});
const order: Order = {
  orderId: 'o1', clientOrderId: 'c1', signalId: 's1', decisionId: 'd1', account: 'ACC-1', strategy: 'trend-1', symbol: 'AAPL', venue: 'paper',
  side: 'BUY', quantity: 10, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: 100, createdAt: 1_000, hlc: 1_000_000,
};
const exec = (over: Partial<ExecutionReport>): ExecutionReport => ({
  executionId: 'e', type: 'ACK', orderId: 'o1', clientOrderId: 'c1', venueOrderId: 'v1', venueTradeId: null, signalId: 's1', account: 'ACC-1', strategy: 'trend-1',
  symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 10, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
  venueTime: null, recordedAt: 1_050, hlc: 1_050_000, ...over,
});
const control = (over: Partial<Control>): Control => ({
  controlId: 'k', kind: 'TRADING_STATE', scope: 'STRATEGY', target: 'trend-1', state: 'HALTED', payload: null, actor: 'bob', reason: 'drill', at: 5, hlc: 5000, ...over,
});

describe('dashboard book', () => {
  it('marks positions to the quote mid; a flat position needs no mark, an open one without a mark is counted as unmarked', () => {
    const book = buildBook({
      positions: [pos({}), pos({ symbol: 'MSFT', quantity: 0, realizedPnl: 7, fees: 1 }), pos({ account: 'ACC-2', symbol: 'BTCUSD', quantity: -2, avgPrice: 50 })],
      strategyDay: [{ strategy: 'trend-1', account: 'ACC-1', realizedToday: 7, feesToday: 1, fillsToday: 2 }],
      marks: new Map([['paper|AAPL', 103]]),
      strategyAccounts: [{ id: 'trend-1', account: 'ACC-1' }, { id: 'meanrev-2', account: 'ACC-2' }, { id: 'other', account: 'ACC-2' }],
    });
    assert.deepEqual(book.positions.map((p) => [p.symbol, p.unrealizedPnl, p.netPnl]), [['AAPL', 30, 30], ['MSFT', 0, 6], ['BTCUSD', null, null]]);
    assert.deepEqual(book.totals, { realized: 7, unrealized: 30, fees: 1, net: 36, unmarked: 1, open: 2, gross: 1030 + 100 });
    assert.deepEqual(book.accounts.map((a) => [a.account, a.strategies, a.net]), [['ACC-1', ['trend-1'], 36], ['ACC-2', ['meanrev-2', 'other'], 0]]);
    // ACC-2 is shared by two strategies: its open P&L is not split between them.
    assert.deepEqual(book.strategies.map((s) => [s.strategy, s.realizedToday, s.unrealized]), [['meanrev-2', 0, null], ['other', 0, null], ['trend-1', 7, 30]]);
  });

  it('rebuilds the day from position states: starts at 0, steps at each fill, and ends where the live book is', () => {
    const day = 86_400_000 * 20_000;
    const row = (over: Partial<HistoryRow>): HistoryRow => ({ account: 'A', symbol: 'X', venue: 'paper', at: day, quantity: 0, avgPrice: 0, realizedPnl: 0, fees: 0, price: null, ...over });
    const start = [row({ at: day - 5, quantity: 10, avgPrice: 100, realizedPnl: 50, fees: 2 })];
    const events = [
      row({ at: day + 1000, quantity: 5, avgPrice: 100, realizedPnl: 60, fees: 3, price: 102 }), // sold 5 at 102
      row({ at: day + 2000, symbol: 'Y', quantity: 1, avgPrice: 10, fees: 0.5, price: 10 }),
    ];
    const { points, base } = dayCurve(day, start, new Map([['paper|X', 101]]), events);
    assert.deepEqual(base, { realized: 50, fees: 2, unrealized: 10 });
    assert.deepEqual(points.map((p) => [p.t - day, p.realized, p.fees, p.unrealized]), [[0, 0, 0, 0], [1000, 10, 1, 0], [2000, 10, 1.5, 0]]);
    const book = buildBook({
      positions: [pos({ account: 'A', symbol: 'X', quantity: 5, avgPrice: 100, realizedPnl: 60, fees: 3 }), pos({ account: 'A', symbol: 'Y', quantity: 1, avgPrice: 10, realizedPnl: 0, fees: 0.5 })],
      strategyDay: [], marks: new Map([['paper|X', 102], ['paper|Y', 10]]), strategyAccounts: [],
    });
    const { t: _t, ...live } = livePoint(day + 3000, book.totals, base);
    const { t: _u, ...last } = points[points.length - 1];
    assert.deepEqual(live, last);
  });
});

describe('dashboard feed', () => {
  it('follows an order through ACK, a partial and a final fill; a reject keeps its reason', () => {
    let o = applyExecution(orderView(order), exec({ type: 'ACK' }));
    assert.equal(o.status, 'ACKNOWLEDGED');
    o = applyExecution(o, exec({ type: 'PARTIAL_FILL', lastQty: 4, lastPrice: 100, cumQty: 4, leavesQty: 6 }));
    assert.deepEqual([o.status, o.filledQty, o.avgPrice], ['PARTIALLY_FILLED', 4, 100]);
    o = applyExecution(o, exec({ type: 'FILL', lastQty: 6, lastPrice: 105, cumQty: 10, leavesQty: 0 }));
    assert.deepEqual([o.status, o.filledQty, o.avgPrice], ['FILLED', 10, 103]);
    const rejected = applyExecution(undefined, exec({ type: 'REJECT', reason: 'INSUFFICIENT_FUNDS', leavesQty: 0, cumQty: 0 }));
    assert.deepEqual([rejected.status, rejected.reason], ['REJECTED', 'INSUFFICIENT_FUNDS']);
  });

  it('keeps the latest trading state per scope and target; a null state removes it; other kinds are not states', () => {
    let s: StateView[] = applyControl([], control({}))!;
    s = applyControl(s, control({ scope: 'DESK', target: '*', state: 'REDUCING' }))!;
    s = applyControl(s, control({ state: 'ACTIVE', actor: 'alice' }))!;
    assert.deepEqual(s.map((x) => [x.scope, x.target, x.state, x.actor]), [['DESK', '*', 'REDUCING', 'bob'], ['STRATEGY', 'trend-1', 'ACTIVE', 'alice']]);
    assert.deepEqual(applyControl(s, control({ scope: 'DESK', target: '*', state: null }))!.map((x) => x.scope), ['STRATEGY']);
    assert.equal(applyControl(s, control({ kind: 'LIMITS', state: null, payload: '{}' })), null);
  });

  it('orders of unknown outcome: an ORDER_OUTCOME record is no trading state, the hub folds it, and its delta replaces the list', () => {
    const outcome: OrderOutcome = {
      status: 'UNKNOWN', clientOrderId: 'c-1', orderId: 'o-1', venue: 'mt5', symbol: 'EURUSD', side: 'BUY', quantity: 10_000, account: 'ACC-1', strategy: 'fx', since: 7, reason: 'RETCODE_10012', resolution: null, resolvedAt: null, settle: null, settledBy: null, settleReason: null,
    };
    const rec = outcomeControl(outcome, { controlId: 'u', actor: 'connector:mt5', at: 8, hlc: 8000 });
    assert.equal(applyControl([], rec), null);
    const folded = listUnknown(foldOutcome(new Map(), rec));
    const s = applyDelta({ unknownOrders: [] } as unknown as DashboardState, { type: 'unknownOrders', orders: folded });
    assert.deepEqual(s.unknownOrders.map((u) => [u.clientOrderId, u.venue, u.reason]), [['c-1', 'mt5', 'RETCODE_10012']]);
  });

  it('venue health: ack latency, reject rate, and the worst of the venue and desk states', () => {
    const o = orderView(order);
    let st = applyVenueStats(undefined, exec({ type: 'ACK', recordedAt: 1_040 }), o);
    st = applyVenueStats(st, exec({ type: 'REJECT' }), o);
    const desk: StateView = { scope: 'DESK', target: '*', state: 'HALTED', reason: 'close', actor: 'bob', at: 1 };
    const [v] = venueViews(['paper'], new Map([['paper', st]]), [desk], new Map());
    assert.deepEqual([v.ackP50Ms, v.errorRate, v.samples, v.state, v.stateReason], [40, 0.5, 2, 'HALTED', 'desk: close']);
  });
});

describe('dashboard plumbing', () => {
  it('tickets: good until they expire, and only when signed with this process key', () => {
    let now = 1_000;
    const t = createTickets({ ttlMs: 30_000, clock: () => now });
    const { ticket } = t.issue({ name: 'bob', role: 'operator' });
    assert.deepEqual(t.verify(ticket), { name: 'bob', role: 'operator' });
    const [body, mac] = ticket.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), r: 'admin' })).toString('base64url');
    assert.equal(t.verify(`${forged}.${mac}`), null);
    assert.equal(createTickets({ ttlMs: 30_000, clock: () => now }).verify(ticket), null, 'another process key');
    assert.equal(t.verify(undefined), null);
    now += 30_000;
    assert.equal(t.verify(ticket), null, 'expired');
  });

  it('the P&L check matches Postgres and DuckDB per position, and names what only one side has', () => {
    const duck = {
      columns: ['account', 'symbol', 'venue', 'realized_pnl', 'fees', 'unrealized_pnl'].map((name) => ({ name })),
      rows: [['ACC-1', 'AAPL', 'paper', 0.1 + 0.2, 1, 99], ['ACC-1', 'MSFT', 'paper', 5, 0.5, 0]],
    };
    const r = reconcile(7, [pos({ realizedPnl: 0.3, fees: 1 }), pos({ symbol: 'MSFT', realizedPnl: 5, fees: 0.4 }), pos({ symbol: 'TSLA' })], duck);
    assert.deepEqual(r.rows.map((x) => [x.symbol, x.match, x.duck === null]), [['AAPL', true, false], ['MSFT', false, false], ['TSLA', false, true]]);
    assert.deepEqual([r.matched, r.total], [1, 3]);
  });

  it('lag counts from the log start for a group without a commit', () => {
    const spec = { component: 'decide', groupId: 'g', topic: 't', offsets: 'kafka' as const };
    const lag = lagOf(spec, [{ partition: 1, high: '10', low: '2' }, { partition: 0, high: '5', low: '0' }], new Map([[0, 5n]]));
    assert.deepEqual([lag.lag, lag.partitions.map((p) => p.lag)], [8, ['0', '8']]);
  });

  it('a snapshot taken at any moment plus the deltas after it equals the state at the end', () => {
    const empty: DashboardState = JSON.parse(JSON.stringify({
      book: buildBook({ positions: [], strategyDay: [], marks: new Map(), strategyAccounts: [] }), curve: { dayStart: 0, base: { realized: 0, fees: 0, unrealized: 0 }, points: [] },
      decisions: [], orders: [], fills: [], states: [], unknownOrders: [], venues: [], lag: [], recon: null, targets: { accounts: [], strategies: [], venues: [] }, caughtUp: false,
    }));
    const deltas: Delta[] = [];
    for (let i = 0; i < 150; i++) {
      deltas.push({ type: 'order', order: { ...orderView(order), orderId: `o${i % 120}`, filledQty: i } });
      if (i % 7 === 0) deltas.push({ type: 'pnl', point: { t: i, realized: i, fees: 0, unrealized: 0 } });
    }
    for (const cut of [0, 1, 57, deltas.length]) {
      const store = createStore(empty);
      deltas.slice(0, cut).forEach((d) => store.publish(d));
      const snap = JSON.parse(store.snapshot().data) as DashboardState & { seq: number; at: number };
      const seen: { seq: number; d: Delta }[] = [];
      store.subscribe((f) => seen.push({ seq: f.seq, d: JSON.parse(f.data) }));
      deltas.slice(cut).forEach((d) => store.publish(d));
      assert.deepEqual(seen.map((s) => s.seq), deltas.slice(cut).map((_, i) => snap.seq + i + 1), 'consecutive ids after the snapshot');
      const { seq: _s, at: _a, ...fromSnapshot } = snap;
      const rebuilt = seen.reduce((s, x) => applyDelta(s, x.d), fromSnapshot as DashboardState);
      assert.deepEqual(rebuilt, store.get());
    }
  });
});

describe('dashboard page helpers (static/*.js)', async () => {
  const at = (f: string) => new URL(`../../edge/dashboard/static/${f}`, import.meta.url).href;
  const fmt = await import(at('format.js'));
  const { chartModel } = await import(at('chart.js'));

  it('formats money with a sign, prices by magnitude, quantities at their own precision, and reasons as key=value', () => {
    assert.deepEqual([fmt.money(1234.5), fmt.money(-0.2), fmt.money(0.001), fmt.money(null)], ['+1,234.50', '−0.20', '0.00', '—']);
    assert.deepEqual([fmt.price(190.024), fmt.price(1.08012), fmt.qty(0.5), fmt.qty(-20000)], ['190.02', '1.08012', '0.5', '−20,000']);
    assert.equal(fmt.detail('{"scope":"STRATEGY","target":"trend-1","pnl":-199.90000001}'), 'scope=STRATEGY target=trend-1 pnl=-199.9');
    assert.equal(fmt.detail('not json'), 'not json');
  });

  it('draws the curve as steps and labels the last net value', () => {
    const t = 1_700_000_000_000;
    const m = chartModel([{ t: t - 600_000, realized: 0, fees: 0, unrealized: 0 }, { t, realized: 10, fees: 1, unrealized: -4 }], t + 1000, { width: 800, height: 200 });
    assert.equal(m.lastNet.value, 5);
    assert.equal(m.lastBooked.value, 9);
    assert.match(m.net, /^M[\d.]+,[\d.]+(H[\d.]+V[\d.]+)+$/);
  });
});

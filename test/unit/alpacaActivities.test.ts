// The Alpaca fill statement's pure parts: trade ids both paths agree on, the activity journal's reads
// (paged, once per round, shared by waiting look-ups, whole every rescan), assets as rules, latest quotes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActivityJournal } from '../../connectors/alpaca/activities.ts';
import { instrumentOf, quotesOf } from '../../connectors/alpaca/market.ts';
import { activitySchema, fillsFromActivities, orderSchema, tradeIdOf, type AlpacaFillActivity } from '../../connectors/alpaca/parse.ts';

const T0 = Date.parse('2024-03-04T14:30:00.000Z');
const act = (n: number, orderId: string, qty: number, cum: number | null, at: number): AlpacaFillActivity => activitySchema.parse({
  id: `${n}::uuid-${n}`, activity_type: 'FILL', transaction_time: new Date(at).toISOString(), price: '10', qty: String(qty), order_id: orderId,
  ...(cum === null ? {} : { cum_qty: String(cum) }),
});
const order = (id: string, filled: number, status = 'filled') => orderSchema.parse({
  id, client_order_id: `c-${id}`, symbol: 'AAPL', side: 'buy', qty: '10', filled_qty: String(filled), filled_avg_price: null, status,
  created_at: new Date(T0).toISOString(), updated_at: null, submitted_at: new Date(T0).toISOString(),
});

describe('alpaca trade ids', () => {
  it('are the order id and the filled quantity after the execution, with or without cum_qty', () => {
    assert.equal(tradeIdOf('o1', 0.30000000000000004), 'o1:0.3');
    const withCum = fillsFromActivities([act(2, 'o1', 6, 10, T0 + 2), act(1, 'o1', 4, 4, T0 + 1)]);
    const without = fillsFromActivities([act(1, 'o1', 4, null, T0 + 1), act(2, 'o1', 6, null, T0 + 2)]);
    assert.deepEqual(withCum.map((f) => f.tradeId), ['o1:4', 'o1:10']);
    assert.deepEqual(without.map((f) => f.tradeId), ['o1:4', 'o1:10']);
  });

  it('lists two executions of the same millisecond by their cumulative quantity, whatever their ids say', () => {
    // The second execution's id sorts first (its uuid half is random at Alpaca): seen failing before.
    const same = fillsFromActivities([act(1, 'o1', 6, 10, T0), act(2, 'o1', 4, 4, T0)]);
    assert.deepEqual(same.map((f) => [f.tradeId, f.quantity]), [['o1:4', 4], ['o1:10', 6]]);
  });
});

describe('alpaca activity journal', () => {
  function setup(rows: AlpacaFillActivity[], opts: { rescanMs?: number } = {}) {
    let now = T0 + 60_000;
    const calls: { after: string; token: string | null }[] = [];
    const j = createActivityJournal({
      clock: () => now, lookbackMs: 86_400_000, rescanMs: opts.rescanMs ?? 300_000, overlapMs: 60_000,
      async readPage(after, token) {
        calls.push({ after, token });
        const from = Date.parse(after);
        const list = rows.filter((r) => r.transaction_time > from).sort((a, b) => a.transaction_time - b.transaction_time);
        const start = token ? list.findIndex((r) => r.id === token) + 1 : 0;
        return list.slice(start, start + 100);
      },
    });
    return { j, calls, rows, tick: (ms: number) => { now += ms; }, now: () => now };
  }

  it('pages with page_token until a short page, once per round, and serves look-ups from it', async () => {
    const rows = Array.from({ length: 230 }, (_, i) => act(i + 1, `o${i % 23}`, 1, Math.floor(i / 23) + 1, T0 + 1_000 + i));
    const s = setup(rows);
    for (let i = 0; i < 23; i++) s.j.track(order(`o${i}`, 10));
    await s.j.refresh();
    assert.deepEqual(s.calls.map((c) => c.token), [null, '100::uuid-100', '200::uuid-200']);
    for (let i = 0; i < 23; i++) assert.equal((await s.j.fillsOf(order(`o${i}`, 10), s.now())).length, 10);
    assert.equal(s.calls.length, 3, 'no read per order');
  });

  it('reads what is new for an order that does not add up, once for all who wait, and not again for a lagging statement', async () => {
    const s = setup([act(1, 'a', 5, 5, T0 + 1_000)]);
    s.j.track(order('a', 5));
    await s.j.refresh();
    s.rows.push(act(2, 'a', 5, 10, T0 + 50_000), act(3, 'b', 5, 5, T0 + 51_000));
    const fetchedAt = s.now();
    s.tick(10);
    const [a, b] = await Promise.all([s.j.fillsOf(order('a', 10), fetchedAt), s.j.fillsOf(order('b', 5), fetchedAt)]);
    assert.deepEqual([a.length, b.length], [2, 1]);
    assert.equal(s.calls.length, 2, 'one shared read');
    const lagging = await s.j.fillsOf(order('c', 5), fetchedAt);
    assert.equal(lagging.length, 0);
    assert.equal(s.calls.length, 2, 'a read began after c was fetched: its activities lag, no read for it');
    s.tick(10);
    await s.j.fillsOf(order('c', 5), s.now());
    assert.equal(s.calls.length, 3, 'c fetched again later: one more read of what is new');
  });

  it('re-reads the whole window every rescan, so a restated or busted fill shows', async () => {
    const s = setup([act(1, 'a', 5, 5, T0 + 1_000), act(2, 'a', 5, 10, T0 + 200_000)], { rescanMs: 100_000 });
    s.tick(240_000);
    s.j.track(order('a', 10));
    await s.j.refresh();
    s.rows.splice(0, 1); // the older fill is busted
    s.tick(1_000);
    await s.j.refresh();
    assert.equal(Date.parse(s.calls.at(-1)!.after), T0 + 140_000, 'in between: from a minute before the newest activity');
    s.tick(100_000);
    await s.j.refresh();
    assert.equal(Date.parse(s.calls.at(-1)!.after), T0 - 1_000, 'rescan: from the oldest order in question');
    assert.deepEqual((await s.j.fillsOf(order('a', 5), s.now() - 1)).map((a) => a.id), ['2::uuid-2'], 'the busted fill is gone');
  });

  it('reads nothing when no order is in question', async () => {
    const s = setup([]);
    await s.j.refresh();
    assert.equal(s.calls.length, 0);
  });
});

describe('alpaca assets and quotes', () => {
  it('maps assets to rules and latest quotes to quotes', () => {
    const base = { symbol: 'AAPL', class: 'us_equity', status: 'active', tradable: true, fractionable: false, min_order_size: null, min_trade_increment: null, price_increment: null };
    assert.deepEqual(instrumentOf('AAPL', base), { symbol: 'AAPL', venueSymbol: 'AAPL', trading: true, lotSize: 1, tickSize: 0.01, minNotional: 0, minQty: 1, maxQty: 0 });
    assert.equal(instrumentOf('AAPL', { ...base, tradable: false }).trading, false);
    const now = Date.parse('2024-03-04T14:31:00Z');
    const q = { quotes: { AAPL: { bp: 175.4, bs: 2, ap: 175.5, as: 1, t: '2024-03-04T14:30:59.5Z' }, 'BTC/USD': { bp: 2, bs: 1, ap: 1, as: 1, t: '2024-03-04T14:30:59.5Z' } } };
    assert.deepEqual(quotesOf(q, now, 5_000).map((x) => [x.symbol, x.bid, x.ask]), [['AAPL', 175.4, 175.5]]);
    assert.deepEqual(quotesOf(q, now + 10_000, 5_000), []);
  });
});

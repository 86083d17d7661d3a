// The backtest core: the example strategies over seeded quotes through decide and the paper book.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { outputHash, outputLines, startBacktest, type OutputRecord } from '../../edge/backtest/simulate.ts';
import { syntheticQuotes } from '../../edge/backtest/synthetic.ts';
import { defineStrategy, type Strategy } from '../../edge/strategies/api.ts';
import maCrossover from '../../edge/strategies/examples/maCrossover.ts';
import meanReversion from '../../edge/strategies/examples/meanReversion.ts';

const START = Date.parse('2026-11-02T14:30:00Z');
const quotes = () => syntheticQuotes({
  symbols: [{ symbol: 'AAPL', mid: 190, tick: 0.01 }, { symbol: 'MSFT', mid: 410, tick: 0.01 }], start: START, count: 4000, seed: 11,
});

function run(strategy: Strategy<unknown>, qs = quotes()): readonly OutputRecord[] {
  const bt = startBacktest({ strategy, account: 'ACC-BT', config: defaultControlConfig() });
  for (const q of qs) bt.quote(q);
  bt.finish();
  return bt.records();
}

type ValueOf<K extends OutputRecord['kind']> = Extract<OutputRecord, { kind: K }>['value'];
const of = <K extends OutputRecord['kind']>(rs: readonly OutputRecord[], kind: K): ValueOf<K>[] =>
  rs.filter((r) => r.kind === kind).map((r) => r.value as ValueOf<K>);

test('same quotes, same strategy: the same output byte for byte', () => {
  const a = run(maCrossover as Strategy<unknown>);
  const b = run(maCrossover as Strategy<unknown>);
  assert.ok(of(a, 'execution').some((e) => e.type === 'FILL'), 'the crossover traded');
  assert.equal(outputHash(a), outputHash(b));
  assert.equal(outputLines(a), outputLines(b));
});

test('a different input gives a different output', () => {
  const shifted = quotes().map((q, i) => (i === 100 ? { ...q, bid: q.bid - 1, ask: q.ask - 1 } : q));
  assert.notEqual(outputHash(run(maCrossover as Strategy<unknown>)), outputHash(run(maCrossover as Strategy<unknown>, shifted)));
});

test('signals take the gate: the crossover holds its target, fills fold into its position', () => {
  const rs = run(maCrossover as Strategy<unknown>);
  const decisions = of(rs, 'decision');
  const orders = of(rs, 'order');
  assert.ok(decisions.length > 2);
  assert.equal(orders.length, decisions.filter((d) => d.verdict === 'APPROVED').length);
  let position = 0;
  for (const e of of(rs, 'execution')) if (e.type === 'FILL' || e.type === 'PARTIAL_FILL') position += e.side === 'BUY' ? e.lastQty : -e.lastQty;
  assert.equal(Math.abs(position), 10, 'always at its ±10 target after the first cross');
  for (const o of orders) assert.equal(o.account, 'ACC-BT');
});

test('the mean reversion trades MSFT only, and its timer runs on the simulated clock', () => {
  const logs: string[] = [];
  const rs = run(meanReversion as Strategy<unknown>);
  assert.ok(of(rs, 'order').length > 0);
  assert.ok(of(rs, 'order').every((o) => o.symbol === 'MSFT'));
  let ticks = 0;
  const timed = defineStrategy<null>({ id: 'timed', timerMs: 60_000, onTimer: (now, ctx) => { ticks++; logs.push(`${now}`); assert.equal(ctx.now(), now); } });
  run(timed as Strategy<unknown>);
  // 4000 quotes over two symbols, one a second: 2000 s of clock, a timer a minute.
  assert.equal(ticks, 33);
  assert.equal(logs[0], String(START + 60_000));
});

test('a signal the edge would refuse is recorded with its field, and the run goes on', () => {
  let sent = false;
  const bad = defineStrategy<null>({
    id: 'bad', symbols: ['AAPL'],
    onQuote(q, ctx) {
      if (sent) return;
      sent = true;
      ctx.submit({ symbol: q.symbol, intent: 'delta', side: 'buy' });
      ctx.submit({ symbol: q.symbol, intent: 'delta', side: 'buy', quantity: 1 });
    },
  });
  const rs = run(bad as Strategy<unknown>);
  const refused = of(rs, 'refused');
  assert.equal(refused.length, 1);
  assert.equal(refused[0].field, 'quantity');
  assert.equal(of(rs, 'order').length, 1);
});

test('a strategy reading the wall clock or randomness is stopped, naming ctx.now(); outside handlers both work', () => {
  for (const [what, read] of [
    ['Date.now()', () => Date.now()], ['new Date()', () => new Date()], ['Math.random()', () => Math.random()], ['performance.now()', () => performance.now()],
  ] as const) {
    const cheat = defineStrategy<null>({ id: 'cheat', onQuote: () => { read(); } });
    assert.throws(() => run(cheat as Strategy<unknown>, quotes().slice(0, 3)), (e: Error) => e.name === 'NondeterminismError' && e.message.includes(what) && e.message.includes('ctx.now()'));
    assert.ok(Date.now() > 0 && Math.random() < 1 && new Date().getTime() > 0 && performance.now() > 0);
  }
  const formats = defineStrategy<{ day: string }>({ id: 'formats', init: () => ({ day: '' }), onQuote: (q, ctx) => { ctx.state.day = new Date(q.time).toISOString().slice(0, 10); } });
  assert.doesNotThrow(() => run(formats as Strategy<unknown>, quotes().slice(0, 3)));
});

const quote = (i: number, bid: number) => ({
  venue: 'paper', symbol: 'AAPL', bid, ask: Number((bid + 0.02).toFixed(2)), bidSize: 100, askSize: 100, venueTime: START + i * 1000, hlc: (START + i * 1000) * 1000,
});

test('a stop waits off the book and trades at market once the bid reaches it; a trailing stop follows the bid', () => {
  const stopper = (signal: Record<string, unknown>) => defineStrategy<{ sent: boolean }>({
    id: 'stopper', symbols: ['AAPL'], init: () => ({ sent: false }),
    onQuote(q, ctx) {
      if (ctx.state.sent) return;
      ctx.state.sent = true;
      ctx.submit({ symbol: 'AAPL', intent: 'delta', side: 'sell', quantity: 5, timeInForce: 'gtc', ...signal });
    },
  }) as Strategy<unknown>;
  const fills = (rs: readonly OutputRecord[]) => of(rs, 'execution').filter((e) => e.type === 'FILL');

  const stop = run(stopper({ orderType: 'stop', stopPrice: 189 }), [quote(0, 190), quote(1, 189.5), quote(2, 189.1), quote(3, 188.9), quote(4, 188)]);
  assert.equal(of(stop, 'order')[0]?.orderType, 'STOP', JSON.stringify(of(stop, 'decision')));
  assert.deepEqual(fills(stop).map((e) => [e.lastPrice, e.lastQty, e.recordedAt - START]), [[188.9, 5, 3000]]);

  const trailing = run(stopper({ orderType: 'trailing_stop', trailAmount: 0.5 }), [quote(0, 190), quote(1, 191), quote(2, 190.6), quote(3, 190.4), quote(4, 189)]);
  assert.equal(of(trailing, 'order')[0]?.orderType, 'TRAILING_STOP');
  assert.deepEqual(fills(trailing).map((e) => [e.lastPrice, e.recordedAt - START]), [[190.4, 3000]], 'triggered 0.50 below the highest bid (191)');
});

test('a cancel signal cancels the strategy\'s resting order in the paper book; it never fills afterwards', () => {
  const canceller = defineStrategy<{ n: number }>({
    id: 'canceller', symbols: ['AAPL'], init: () => ({ n: 0 }),
    onQuote(_q, ctx) {
      ctx.state.n += 1;
      if (ctx.state.n === 1) ctx.submit({ symbol: 'AAPL', intent: 'delta', side: 'sell', quantity: 5, orderType: 'stop', stopPrice: 189, timeInForce: 'gtc' });
      if (ctx.state.n === 2) ctx.submit({ symbol: 'AAPL', intent: 'cancel' });
    },
  }) as Strategy<unknown>;
  const out = run(canceller, [quote(0, 190), quote(1, 189.5), quote(2, 189.1), quote(3, 188.9), quote(4, 188)]);
  const decisions = of(out, 'decision');
  assert.deepEqual(decisions.map((d) => [d.verdict, d.reason]), [['APPROVED', null], ['NO_ACTION', 'CANCEL_REQUESTED']], JSON.stringify(decisions));
  const executions = of(out, 'execution');
  assert.deepEqual(executions.map((e) => [e.type, e.reason]), [['ACK', null], ['CANCEL', 'CANCEL_REQUESTED']]);
});

test('a bracket in the backtest: exits placed on the entry\'s fill; the take-profit fills as the market rises and the stop is canceled', () => {
  const bracketed = defineStrategy<{ sent: boolean }>({
    id: 'bracketed', symbols: ['AAPL'], init: () => ({ sent: false }),
    onQuote(_q, ctx) {
      if (ctx.state.sent) return;
      ctx.state.sent = true;
      ctx.submit({ symbol: 'AAPL', intent: 'delta', side: 'buy', quantity: 5, takeProfit: { price: 190.5 }, stopLoss: { type: 'stop', amount: 1 } });
    },
  }) as Strategy<unknown>;
  const out = run(bracketed, [quote(0, 190), quote(1, 190.2), quote(2, 190.6), quote(3, 189)]);
  const orders = of(out, 'order');
  assert.deepEqual(orders.map((o) => [o.exitRole, o.side, o.quantity, o.orderType, o.limitPrice, o.stopPrice]), [
    [null, 'BUY', 5, 'MARKET', null, null], ['TAKE_PROFIT', 'SELL', 5, 'LIMIT', 190.5, null], ['STOP_LOSS', 'SELL', 5, 'STOP', null, 189.02],
  ], JSON.stringify(of(out, 'decision')));
  const [, tp, sl] = orders;
  const executions = of(out, 'execution').filter((e) => e.orderId !== orders[0].orderId);
  assert.deepEqual(executions.map((e) => [e.orderId === tp.orderId ? 'TP' : 'SL', e.type]), [['TP', 'ACK'], ['SL', 'ACK'], ['TP', 'FILL'], ['SL', 'CANCEL']]);
});

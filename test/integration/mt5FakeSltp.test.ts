// The fake MT5 bridge's stop-loss/take-profit (test/fakes/mt5/sltp.ts), over HTTP as MetaApi documents it:
// POSITION_MODIFY sets a position's levels, a price move to a level closes the position with the server's
// own order and deal (reason SL/TP), on a hedging account.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';

const TOKEN = 'mt5-bridge-token-sltp-0001';
const ACCOUNT = '5a6b7c8d-sltp-4e5f-9a0b-1c2d3e4f5a6b';
type Json = Record<string, unknown>;

describe('fake mt5: position stop-loss and take-profit', () => {
  let fake: FakeMt5Bridge;
  let base: string;
  const call = async (method: string, path: string, body?: Json): Promise<{ status: number; json: Json & Json[] }> => {
    const res = await fetch(`${base}/users/current/accounts/${ACCOUNT}${path}`, {
      method, headers: { 'auth-token': TOKEN, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: await res.json() as Json & Json[] };
  };
  const trade = async (body: Json) => (await call('POST', '/trade', body)).json;
  const modify = (positionId: string, levels: Json) => trade({ actionType: 'POSITION_MODIFY', positionId, ...levels });
  /** Opens a 10-share AAPL position at bid 190.10 / ask 190.12; returns its id. */
  async function open(side: 'BUY' | 'SELL', comment: string): Promise<string> {
    fake.setPrice('AAPL', 190.1, 190.12);
    const r = await trade({ actionType: `ORDER_TYPE_${side}`, symbol: 'AAPL', volume: 10, comment, magic: 4242 });
    assert.equal(r.numericCode, 10009);
    const [p] = fake.positionsWithComment(comment);
    assert.equal(p.id, r.positionId);
    return p.id;
  }
  const position = async (id: string) => call('GET', `/positions/${id}`);
  const dealsOf = async (id: string) => (await call('GET', `/history-deals/position/${id}`)).json;
  const ordersOf = async (id: string) => (await call('GET', `/history-orders/position/${id}`)).json;
  const codes = (r: Json) => [r.numericCode, r.stringCode];

  before(async () => {
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN, marginMode: 'ACCOUNT_MARGIN_MODE_RETAIL_HEDGING' });
    base = await fake.start();
  });
  after(async () => { await fake.stop(); });

  it('POSITION_MODIFY sets the levels; the position shows them', async () => {
    const id = await open('BUY', 'sltp-set');
    assert.equal((await position(id)).json.stopLoss, undefined, 'no level before the modify');
    const r = await modify(id, { stopLoss: 185, takeProfit: 195 });
    assert.deepEqual([...codes(r), r.positionId], [10009, 'TRADE_RETCODE_DONE', id]);
    const p = (await position(id)).json;
    assert.deepEqual([p.stopLoss, p.takeProfit], [185, 195]);
    assert.deepEqual(fake.levelsOf(id), { stopLoss: 185, takeProfit: 195 });
    assert.equal(fake.term.counters.positionModifies, 1);
  });

  it('refuses levels on the wrong side of the price or off the tick grid (10016) and changes nothing; the same levels are 10025', async () => {
    const id = fake.positionsWithComment('sltp-set')[0].id;
    for (const levels of [{ stopLoss: 190.1, takeProfit: 195 }, { stopLoss: 185, takeProfit: 190.1 }, { stopLoss: 185.005, takeProfit: 195 }, { stopLoss: -1 }]) {
      assert.deepEqual(codes(await modify(id, levels)), [10016, 'TRADE_RETCODE_INVALID_STOPS'], JSON.stringify(levels));
    }
    assert.deepEqual(codes(await modify(id, { stopLoss: 185, takeProfit: 195 })), [10025, 'TRADE_RETCODE_NO_CHANGES']);
    assert.deepEqual(codes(await modify(id, { stopLoss: 185, stopLossUnits: 'RELATIVE_PIPS' })), [10013, 'TRADE_RETCODE_INVALID']);
    assert.deepEqual(fake.levelsOf(id), { stopLoss: 185, takeProfit: 195 });
    assert.equal(fake.term.counters.positionModifies, 7);
  });

  it('a bid at the take-profit closes the whole BUY: a TP order and deal at that bid', async () => {
    const id = fake.positionsWithComment('sltp-set')[0].id;
    assert.deepEqual(fake.setPrice('AAPL', 194.99, 195.01), [], 'below the TP: nothing');
    const [closer] = fake.setPrice('AAPL', 195.2, 195.22);
    assert.equal((await position(id)).status, 404);
    assert.equal(fake.levelsOf(id), null);
    const deals = await dealsOf(id);
    assert.deepEqual(deals.map((d) => [d.entryType, d.reason]), [['DEAL_ENTRY_IN', 'DEAL_REASON_EXPERT'], ['DEAL_ENTRY_OUT', 'DEAL_REASON_TP']]);
    const out = deals[1];
    assert.deepEqual([out.type, out.positionId, out.orderId, out.volume, out.price, out.magic, out.comment, out.stopLoss, out.takeProfit],
      ['DEAL_TYPE_SELL', id, closer.id, 10, 195.2, 4242, '[tp 195.00]', 185, 195]);
    const orders = await ordersOf(id);
    assert.deepEqual(orders.map((o) => [o.id, o.type, o.state, o.reason]),
      [[id, 'ORDER_TYPE_BUY', 'ORDER_STATE_FILLED', 'ORDER_REASON_EXPERT'], [closer.id, 'ORDER_TYPE_SELL', 'ORDER_STATE_FILLED', 'ORDER_REASON_TP']]);
  });

  it('an ask at the stop-loss closes the whole SELL, shown after the sync lag', async () => {
    const id = await open('SELL', 'sltp-sell');
    assert.deepEqual(codes(await modify(id, { stopLoss: 190.12, takeProfit: 185 })), [10016, 'TRADE_RETCODE_INVALID_STOPS'], 'SL at the ask');
    assert.deepEqual(codes(await modify(id, { stopLoss: 192.5, takeProfit: 185 })), [10009, 'TRADE_RETCODE_DONE']);
    fake.term.faults.syncLagMs = 150;
    try {
      assert.deepEqual(fake.setPrice('AAPL', 192.4, 192.49), [], 'the ask below the SL: nothing');
      const [closer] = fake.setPrice('AAPL', 192.7, 192.8);
      assert.equal((await position(id)).status, 404);
      assert.equal((await dealsOf(id)).length, 1, 'the SL deal not yet synchronised');
      await sleep(200);
      const out = (await dealsOf(id))[1];
      assert.deepEqual([out.entryType, out.reason, out.type, out.orderId, out.volume, out.price, out.magic, out.comment],
        ['DEAL_ENTRY_OUT', 'DEAL_REASON_SL', 'DEAL_TYPE_BUY', closer.id, 10, 192.8, 4242, '[sl 192.50]']);
      assert.deepEqual((await ordersOf(id)).map((o) => [o.type, o.reason]), [['ORDER_TYPE_SELL', 'ORDER_REASON_EXPERT'], ['ORDER_TYPE_BUY', 'ORDER_REASON_SL']]);
    } finally { fake.term.faults.syncLagMs = 0; }
  });

  it('a level of 0 or left out removes it; a removed level no longer triggers', async () => {
    const id = await open('BUY', 'sltp-remove');
    await modify(id, { stopLoss: 185, takeProfit: 195 });
    assert.deepEqual(codes(await modify(id, { stopLoss: 0 })), [10009, 'TRADE_RETCODE_DONE']);
    const p = (await position(id)).json;
    assert.deepEqual(['stopLoss' in p, 'takeProfit' in p], [false, false]);
    assert.deepEqual(fake.levelsOf(id), { stopLoss: null, takeProfit: null });
    assert.deepEqual(fake.setPrice('AAPL', 184, 184.02), []);
    assert.equal((await position(id)).status, 200);
  });

  it('a closed or unknown position is refused with 10036; a close by id ends the levels with it', async () => {
    const id = await open('BUY', 'sltp-closed');
    await modify(id, { stopLoss: 185 });
    assert.equal((await trade({ actionType: 'POSITION_CLOSE_ID', positionId: id })).numericCode, 10009);
    assert.equal(fake.levelsOf(id), null);
    const out = (await dealsOf(id))[1];
    assert.deepEqual([out.reason, out.stopLoss], ['DEAL_REASON_EXPERT', 185], 'our close, with the last known SL');
    assert.deepEqual(codes(await modify(id, { stopLoss: 186 })), [10036, 'TRADE_RETCODE_POSITION_CLOSED']);
    assert.deepEqual(codes(await modify('999', { stopLoss: 186 })), [10036, 'TRADE_RETCODE_POSITION_CLOSED']);
  });

  it('POSITION_PARTIAL leaves the levels on the rest, which the level then closes', async () => {
    const id = await open('BUY', 'sltp-partial');
    await modify(id, { stopLoss: 185, takeProfit: 195 });
    assert.equal((await trade({ actionType: 'POSITION_PARTIAL', positionId: id, volume: 4 })).numericCode, 10009);
    const p = (await position(id)).json;
    assert.deepEqual([p.volume, p.stopLoss, p.takeProfit], [6, 185, 195]);
    fake.setPrice('AAPL', 184.9, 184.92);
    const deals = await dealsOf(id);
    assert.deepEqual(deals.map((d) => [d.entryType, d.reason, d.volume]),
      [['DEAL_ENTRY_IN', 'DEAL_REASON_EXPERT', 10], ['DEAL_ENTRY_OUT', 'DEAL_REASON_EXPERT', 4], ['DEAL_ENTRY_OUT', 'DEAL_REASON_SL', 6]]);
    assert.equal(deals[2].price, 184.9);
  });
});

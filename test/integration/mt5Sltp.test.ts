// Issue 17 item 2 at MT5: on a hedging account a bracket's exits are the stop-loss and take-profit of the
// position their entry opened (POSITION_MODIFY), since a pending exit there would open a position of its
// own beside it. On the real Kafka and registry, the brackets processor and the MT5 connector runtime
// against the local bridge (test/fakes/mt5/, written from MetaApi's and MQL5's documentation): the levels
// set once, a TP hit records the take-profit's fill and the stop's end (the venue resolved the pair), an
// SL hit after a restart is recorded once, and an `exit` removes both levels before its sell closes the
// position; levels whose answer was lost are looked up, never set twice. Seen failing before the levels
// were used (both exits refused: HEDGING_OPPOSITE_LIMIT) and, for the last test, with
// ORDER_ROUTER_FAULT=blind-resend (look-ups that never ask the venue: a second POSITION_MODIFY).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import type { Order } from '../../schemas/types.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';
import { startBracketsRig, type BracketsRig } from '../helpers/bracketsRig.ts';
import { waitFor } from '../helpers/env.ts';

const TOKEN = 'mt5-bridge-token-sltp-0001';
const ACCOUNT = '0d1e2f3a-sltp-4b5c-8d9e-0a1b2c3d4e5f';

describe('bracket exits as the SL/TP of an MT5 hedging position', { timeout: 150_000 }, () => {
  let rig: BracketsRig;
  let fake: FakeMt5Bridge;
  let url: string;
  const startConnector = () => rig.startConnector(createMt5Client({
    config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 1_000, pollMs: 200 }), log: rig.log,
  }));
  const reports: BracketsRig['reports'] = (o, type) => rig.reports(o, type);

  before(async () => {
    rig = await startBracketsRig('mt5');
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN, marginMode: 'ACCOUNT_MARGIN_MODE_RETAIL_HEDGING' });
    url = await fake.start();
    await startConnector();
  });

  after(async () => {
    await rig?.stop();
    await fake?.stop();
  });

  const levels = { takeProfit: { orderType: 'LIMIT', price: 200, percent: null, amount: null, limitPrice: null }, stopLoss: { orderType: 'STOP', price: 180, percent: null, amount: null, limitPrice: null } } as const;

  /** A market buy of 10 AAPL (filled at once by the bridge) with a take-profit at 200 and a stop at 180. */
  async function filledEntry(): Promise<Order> {
    fake.setPrice('AAPL', 190.1, 190.12);
    const entry = rig.entry('mt5', { ...levels, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC' });
    await rig.send(entry);
    await waitFor('the entry filled', async () => reports(entry, 'FILL').length > 0, 30_000, 50);
    return entry;
  }
  const exitsOf = (entry: Order) => rig.ackedExits(entry);
  const positionOf = (account: string) => rig.positionOf(account);
  const entryPosition = (entry: Order) => [...fake.term.positions.values()].find((p) => p.comment === commentToken(entry.clientOrderId));

  it('sets both exits as the levels of the entry\'s position in one request; a TP hit fills the take-profit and ends the stop', async () => {
    const before = fake.term.counters.positionModifies;
    const entry = await filledEntry();
    const { tp, sl } = await exitsOf(entry);
    assert.equal(fake.term.counters.positionModifies - before, 1, 'one POSITION_MODIFY');
    const position = entryPosition(entry);
    assert.ok(position, 'the entry\'s position');
    assert.deepEqual(fake.levelsOf(position.id), { stopLoss: 180, takeProfit: 200 });
    assert.equal(reports(tp, 'REJECT').length + reports(sl, 'REJECT').length, 0);

    fake.setPrice('AAPL', 200.5, 200.52);
    await waitFor('the take-profit filled and the stop ended', async () => reports(tp, 'FILL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
    await rig.ocoCancelSettled(sl);
    assert.deepEqual(reports(tp, 'FILL').map((e) => [e.lastQty, e.lastPrice]), [[10, 200.5]]);
    assert.equal(reports(sl, 'CANCEL').length, 1, 'exactly one CANCEL for the stop');
    assert.equal(reports(sl, 'FILL').length, 0);
    await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
  });

  it('an SL hit after a connector restart is recorded once, from the leg\'s venue id on executions', async () => {
    const entry = await filledEntry();
    const { tp, sl } = await exitsOf(entry);
    await startConnector(); // the running one stopped first: what it knew of the legs is gone
    fake.setPrice('AAPL', 179.5, 179.52);
    await waitFor('the stop filled and the take-profit ended', async () => reports(sl, 'FILL').length > 0 && reports(tp, 'CANCEL').length > 0, 30_000, 50);
    await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
    assert.deepEqual(reports(sl, 'FILL').map((e) => e.lastQty), [10]);
    assert.equal(reports(tp, 'CANCEL').length, 1);
    assert.equal(reports(sl, 'ACK').length, 1);
  });

  it('an exit (a closing sell and the cancels of both exits, one transaction): the levels are removed, then the sell closes the position', async () => {
    const entry = await filledEntry();
    const { tp, sl } = await exitsOf(entry);
    const position = entryPosition(entry)!;
    const modifies = fake.term.counters.positionModifies;
    const close = await rig.exitWithCancels(entry, [tp, sl]);
    await waitFor('both exits canceled and the sell filled', async () => reports(tp, 'CANCEL').length > 0 && reports(sl, 'CANCEL').length > 0 && reports(close, 'FILL').length > 0, 30_000, 50);
    assert.equal(fake.term.positions.has(position.id), false, 'the position closed by the sell');
    assert.equal(fake.term.counters.positionModifies - modifies, 2, 'each level removed by a POSITION_MODIFY before the sell');
    await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
    assert.equal(reports(tp, 'FILL').length + reports(sl, 'FILL').length, 0);
  });

  it('levels set but never answered: looked up on the position, not set again', async () => {
    fake.setPrice('AAPL', 190.1, 190.12);
    const entry = rig.entry('mt5', { ...levels, limitPrice: 189 });
    await rig.send(entry);
    await waitFor('the entry resting', async () => reports(entry, 'ACK').length > 0, 30_000, 50);
    const modifies = fake.term.counters.positionModifies;
    fake.term.faults.dropTrades += 1; // the next trade request, the exits' POSITION_MODIFY, executes unanswered
    fake.fill(fake.ordersWithComment(commentToken(entry.clientOrderId)).at(-1)!, 10, 189);
    const { tp, sl } = await exitsOf(entry);
    assert.deepEqual(fake.levelsOf(entryPosition(entry)!.id), { stopLoss: 180, takeProfit: 200 });
    assert.equal(fake.term.counters.positionModifies - modifies, 1, 'one POSITION_MODIFY');
    assert.equal(reports(tp, 'ACK').length, 1);
    assert.equal(reports(sl, 'ACK').length, 1);
  });
});

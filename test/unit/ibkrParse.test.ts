// IBKR payloads (recorded-style fixtures) → domain values, and the conid mapping.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  amendment, decideQuestion, orderState, parseCompactTime, parseLiveOrders, parseOrderStatus, parsePlaceReply, parseTrades, parseWsMessage,
  placeErrorKind,
} from '../../connectors/ibkr/parse.ts';
import { fromVenue, listedSymbols, toVenue } from '../../connectors/ibkr/symbols.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../connectors/ibkr/fixtures/${name}`, import.meta.url), 'utf8'));
const policy = { messageIds: ['o163', 'o354', 'o383'], texts: [] as string[] };

describe('ibkr symbols', () => {
  it('maps the listed contracts both ways', () => {
    assert.deepEqual(toVenue('AAPL'), { conid: 265598, secType: 'STK' });
    assert.equal(toVenue('MSFT')?.conid, 272093);
    assert.deepEqual(toVenue('EURUSD'), { conid: 12087792, secType: 'CASH' });
    for (const s of listedSymbols()) assert.equal(fromVenue(toVenue(s)!.conid), s);
  });
  it('refuses what it does not list', () => {
    assert.equal(toVenue('BTCUSD'), null);
    assert.equal(toVenue('toString'), null);
    assert.equal(fromVenue(8314), null);
  });
});

describe('ibkr place order answers', () => {
  it('reads a placed order', () => {
    assert.deepEqual(parsePlaceReply(fixture('placeOrderPlaced.json')), {
      kind: 'placed', orderId: '1799796559', status: 'PreSubmitted', orders: [{ orderId: '1799796559', status: 'PreSubmitted' }],
    });
    // An OCA group is placed in one request and answered with one entry per order, in its order.
    const group = parsePlaceReply([{ order_id: '11', order_status: 'Submitted', encrypt_message: '1' }, { order_id: '12', order_status: 'PreSubmitted', encrypt_message: '1' }]);
    assert.deepEqual(group, { kind: 'placed', orderId: '11', status: 'Submitted', orders: [{ orderId: '11', status: 'Submitted' }, { orderId: '12', status: 'PreSubmitted' }] });
  });
  it('reads a question and confirms an allowed message id', () => {
    const q = parsePlaceReply(fixture('placeOrderQuestion.json'));
    assert.equal(q?.kind, 'question');
    if (q?.kind !== 'question') return;
    assert.equal(q.replyId, '07a13a5a-4a48-44a5-bb25-5ab37b79186c');
    assert.deepEqual(q.messageIds, ['o163']);
    assert.deepEqual(decideQuestion(q, policy), { confirm: true });
  });
  it('refuses a message id outside the allow-list', () => {
    const q = parsePlaceReply(fixture('placeOrderQuestionUnknown.json'));
    assert.ok(q?.kind === 'question');
    assert.deepEqual(decideQuestion(q, policy), { confirm: false, refused: 'o10164' });
  });
  it('matches question text only when the gateway sends no message id', () => {
    const q = { kind: 'question' as const, replyId: 'r', messages: ['Price exceeds the Percentage constraint of 3%.'], messageIds: [] };
    assert.deepEqual(decideQuestion(q, { messageIds: [], texts: ['percentage constraint'] }), { confirm: true });
    assert.equal(decideQuestion(q, { messageIds: ['o163'], texts: [] }).confirm, false);
  });
  it('reads an error body, bare or in a list', () => {
    assert.deepEqual(parsePlaceReply(fixture('placeOrderError.json')), { kind: 'error', message: 'Local order ID=or-7f3a91c2 is already registered.' });
    assert.deepEqual(parsePlaceReply([{ error: 'Order was not confirmed' }]), { kind: 'error', message: 'Order was not confirmed' });
    assert.equal(parsePlaceReply({ unexpected: true }), null);
  });
});

describe('ibkr orders and trades', () => {
  const trades = parseTrades(fixture('trades.json'));

  it('reads trades, coercing string numbers and dropping unreadable rows', () => {
    assert.equal(trades.length, 5);
    assert.deepEqual(trades[0], {
      executionId: '0000e0d5.6576fd38.01.01', orderRef: 'or-7f3a91c2', orderId: null, conid: 265598, side: 'BUY',
      size: 25, price: 189.99, commission: 1, venueTime: 1702317649000,
    });
    assert.equal(trades[4].commission, 0);
    assert.equal(trades[4].orderRef, null);
  });

  it('builds a partially filled order with a repeated execution counted once', () => {
    const order = parseOrderStatus(fixture('orderStatusPartial.json'))!;
    assert.equal(order.orderId, '1799796559');
    assert.equal(order.venueTime, Date.UTC(2023, 11, 11, 18, 0, 49));
    const s = orderState('or-7f3a91c2', order, trades, 0);
    assert.equal(s.status, 'PARTIALLY_FILLED');
    assert.equal(s.symbol, 'AAPL');
    assert.equal(s.side, 'BUY');
    assert.equal(s.quantity, 100);
    assert.equal(s.filledQty, 40);
    assert.deepEqual(s.fills.map((f) => [f.tradeId, f.quantity, f.price, f.fee]), [
      ['0000e0d5.6576fd38.01.01', 25, 189.99, 1], ['0000e0d5.6576fd39.01.01', 15, 190, 1],
    ]);
    assert.equal(s.venueOrderId, '1799796559');
    assert.notEqual(s.venueOrderId, s.clientOrderId);
    assert.equal(s.nativeOco, undefined, 'an order outside any OCA group');
  });

  it('an order of an OCA group (Order Status\'s oca_group_id) says nativeOco', () => {
    const order = parseOrderStatus({ ...fixture('orderStatusPartial.json') as object, oca_group_id: '1799796561' })!;
    assert.equal(order.ocaGroup, '1799796561');
    assert.equal(orderState('or-7f3a91c2', order, [], 0).nativeOco, true);
  });

  it('maps Inactive to REJECTED with the gateway reason', () => {
    const s = orderState('or-x', parseOrderStatus(fixture('orderStatusInactive.json'))!, [], 0);
    assert.equal(s.status, 'REJECTED');
    assert.match(s.rejectReason ?? '', /insufficient shares/);
    assert.equal(s.side, 'SELL');
  });

  it('reads live orders, keeps orders without a cOID and unknown statuses', () => {
    const live = parseLiveOrders(fixture('liveOrders.json'))!;
    assert.equal(live.length, 4);
    assert.deepEqual(live.map((o) => [o.orderRef, o.status]), [
      ['or-7f3a91c2', 'Submitted'], ['or-11b0c4de', 'Filled'], [null, 'PreSubmitted'], ['or-99c0ffee', 'Unknown'],
    ]);
    const fx = orderState('or-11b0c4de', live[1], trades, 0);
    assert.equal(fx.symbol, 'EURUSD');
    assert.equal(fx.status, 'FILLED');
    assert.equal(fx.fills[0].fee, 2);
    assert.equal(orderState('or-99c0ffee', live[3], trades, 0).status, 'NEW');
    assert.equal(live[3].venueTime, Date.UTC(2023, 11, 11, 18, 15, 0));
  });

  it('sees a later statement of the same execution as a correction, an unchanged one as nothing', () => {
    const [corrected] = parseTrades(fixture('tradesCorrected.json'));
    assert.equal(amendment(trades[0], trades[2], 'or-7f3a91c2', 5), null);
    assert.deepEqual(amendment(trades[0], corrected, 'or-7f3a91c2', 5), {
      kind: 'correction', clientOrderId: 'or-7f3a91c2', tradeId: '0000e0d5.6576fd38.01.01', quantity: 25, price: 189.97, fee: 1, venueTime: 5,
    });
    assert.equal(amendment(undefined, corrected, 'or-7f3a91c2', 5), null);
  });

  it('reads compact times and refuses malformed ones', () => {
    assert.equal(parseCompactTime('231211180049'), Date.UTC(2023, 11, 11, 18, 0, 49));
    assert.equal(parseCompactTime('2023-12-11'), null);
    assert.equal(parseCompactTime(undefined), null);
  });
});

describe('ibkr websocket frames', () => {
  it('reads sor, str, sts and heartbeats; ignores the rest', () => {
    const frames = (fixture('wsFrames.json') as string[]).map(parseWsMessage);
    assert.deepEqual(frames.map((f) => f?.kind ?? null), ['connected', 'auth', 'orders', 'orders', 'trades', 'heartbeat', 'auth', null, null]);
    assert.deepEqual(frames[2], { kind: 'orders', updates: [{ orderId: '1799796559', orderRef: 'or-7f3a91c2' }] });
    assert.deepEqual(frames[3], { kind: 'orders', updates: [{ orderId: '1799796561', orderRef: null }] });
    assert.equal(frames[4]?.kind === 'trades' ? frames[4].trades[0].size : null, 15);
    assert.deepEqual(frames[6], { kind: 'auth', authenticated: false });
  });
});

describe('ibkr websocket session frames', () => {
  it('reads "waiting for session", the session confirmation, the selected account and tic; ignores the rest', () => {
    const frames = (fixture('wsSessionFrames.json') as string[]).map(parseWsMessage);
    assert.deepEqual(frames, [
      { kind: 'waitingForSession' }, { kind: 'connected' }, { kind: 'account', selected: 'U1234567' }, { kind: 'heartbeat' }, null,
    ]);
  });
  it('keeps a heartbeat a heartbeat and an sts an auth status', () => {
    assert.deepEqual(parseWsMessage('{"topic":"system","hb":1702317660000}'), { kind: 'heartbeat' });
    assert.deepEqual(parseWsMessage('{"topic":"sts","args":{"authenticated":true}}'), { kind: 'auth', authenticated: true });
  });
});

describe('ibkr order error answers', () => {
  it('tells a taken cOID from the accounts-first request and a plain refusal', () => {
    const duplicate = parsePlaceReply(fixture('placeOrderDuplicate.json'));
    assert.ok(duplicate?.kind === 'error');
    assert.equal(placeErrorKind(duplicate.message), 'duplicate');
    assert.equal(placeErrorKind('Local order ID=or-7f3a91c2 is already registered.'), 'duplicate');
    assert.equal(placeErrorKind('Please query /accounts first'), 'accountsFirst');
    assert.equal(placeErrorKind('Price is required for limit orders'), 'refused');
    assert.equal(placeErrorKind('Order was not confirmed'), 'refused');
  });
});

describe('ibkr config and redaction', () => {
  it('parses with defaults, names a bad field without echoing it, and redacts for logs', async () => {
    const { parseIbkrConfig, describeIbkrConfig, loadIbkrConfig, wsUrlOf } = await import('../../connectors/ibkr/config.ts');
    const c = loadIbkrConfig({ IBKR_ACCOUNT_ID: 'U7654321', IBKR_SESSION_COOKIE: 'cookie-value-9' });
    assert.equal(c.baseUrl, 'https://localhost:5000/v1/api');
    assert.equal(wsUrlOf(c), 'wss://localhost:5000/v1/api/ws');
    assert.deepEqual(c.confirm.messageIds, ['o163', 'o354', 'o383']);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.confirm));
    assert.ok(!JSON.stringify(c).includes('cookie-value-9'), 'a dumped config keeps the cookie hidden');
    const shown = JSON.stringify(describeIbkrConfig(c));
    assert.ok(!shown.includes('U7654321') && !shown.includes('cookie-value-9'));
    assert.match(shown, /\*\*\*\*\*321/);
    assert.throws(() => parseIbkrConfig({ accountId: 'not valid!' }), (e: Error) => /accountId/.test(e.message) && !e.message.includes('not valid!'));
    assert.throws(() => parseIbkrConfig({ accountId: 'U1234567', confirm: { texts: ['('] } }), /confirm\.texts\.0: not a regular expression/);
  });
  it('masks the account id in gateway texts', async () => {
    const { maskAccount } = await import('../../connectors/ibkr/errors.ts');
    assert.equal(maskAccount('Account U7654321 is not valid', 'U7654321'), 'Account *****321 is not valid');
  });
});

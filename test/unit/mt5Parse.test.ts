// MT5 bridge payloads (recorded-style fixtures) → domain values; symbols, lots, comment tokens, retcodes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { retcodeError, SUCCESS_RETCODES } from '../../connectors/mt5/errors.ts';
import { commentToken, TOKEN_PATTERN } from '../../connectors/mt5/ids.ts';
import {
  dealAmendment, isOurs, orderState, parseConnection, parseDeals, parseErrorBody, parseOrders, parsePositions, parseTradeResponse,
} from '../../connectors/mt5/parse.ts';
import { fromLots, fromVenue, listedSymbols, toLots, toVenue } from '../../connectors/mt5/symbols.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../connectors/mt5/fixtures/${name}`, import.meta.url), 'utf8'));
const MAGIC = 770001;

describe('mt5 symbols and volumes', () => {
  it('maps symbols both ways, with a broker suffix', () => {
    for (const s of listedSymbols()) assert.equal(fromVenue(toVenue(s)!.symbol), s);
    assert.equal(toVenue('EURUSD', '.m')?.symbol, 'EURUSD.m');
    assert.equal(fromVenue('EURUSD.m', '.m'), 'EURUSD');
    assert.equal(toVenue('ETHUSD'), null);
    assert.equal(toVenue('constructor'), null);
    assert.equal(fromVenue('XAUUSD'), null);
  });
  it('turns quantities into lots on the volume step and refuses the rest', () => {
    const eur = toVenue('EURUSD')!;
    assert.equal(toLots(25_000, eur), 0.25);
    assert.equal(toLots(1_000, eur), 0.01);
    assert.equal(toLots(1_500, eur), null, 'off the 0.01-lot step');
    assert.equal(toLots(0, eur), null, 'below the minimum');
    assert.equal(fromLots(0.25, eur), 25_000);
    assert.equal(toLots(10, toVenue('AAPL')!), 10);
    assert.equal(toLots(10.5, toVenue('AAPL')!), null);
    assert.equal(toLots(0.07, toVenue('BTCUSD')!), 0.07);
  });
});

describe('mt5 comment tokens', () => {
  it('are short, deterministic and distinct', () => {
    const t = commentToken('or-7f3a91c2-limit');
    assert.equal(t, 'orrs4mzjavc6mk');
    assert.equal(commentToken('or-7f3a91c2-limit'), t);
    assert.match(t, TOKEN_PATTERN);
    assert.ok(t.length <= 26, 'fits MetaApi comment+clientId budget and the MT5 31-character comment');
    const many = new Set(Array.from({ length: 5_000 }, (_, i) => commentToken(`cid-${i}`)));
    assert.equal(many.size, 5_000);
  });
});

describe('mt5 trade answers and errors', () => {
  it('reads a done trade', () => {
    const tr = parseTradeResponse(fixture('tradeDone.json'));
    assert.equal(tr?.numericCode, 10009);
    assert.equal(tr?.orderId, '47138322');
    assert.ok(SUCCESS_RETCODES.has(tr!.numericCode));
  });
  it('maps return codes to retriable or not', () => {
    const cases: [string, string, boolean][] = [
      ['tradeRequote.json', 'TRADE_RETCODE_REQUOTE', true],
      ['tradeNoConnection.json', 'TRADE_RETCODE_CONNECTION', true],
      ['tradeNoMoney.json', 'TRADE_RETCODE_NO_MONEY', false],
    ];
    for (const [file, name, retriable] of cases) {
      const tr = parseTradeResponse(fixture(file))!;
      assert.ok(!SUCCESS_RETCODES.has(tr.numericCode));
      const err = retcodeError(tr.numericCode, tr.stringCode, 'submit', 'cid-1');
      assert.equal(err.venueCode, name);
      assert.equal(err.retriable, retriable, file);
      assert.match(err.message, /cid-1/);
    }
    assert.equal(retcodeError(10006, 'TRADE_RETCODE_REJECT', 'submit', 'c').retriable, false);
    assert.equal(retcodeError(-11, null, 'submit', 'c').code, 'VENUE_TIMEOUT');
    assert.equal(retcodeError(10024, null, 'submit', 'c').retryAfterMs, 1_000);
    assert.deepEqual([retcodeError(12345, null, 'submit', 'c').code, retcodeError(12345, null, 'submit', 'c').retriable], ['VENUE_REJECTED', false]);
  });
  it('reads the bridge error body and its recommended retry time', () => {
    const now = Date.parse('2024-03-12T14:10:00.000Z');
    assert.deepEqual(parseErrorBody(fixture('errorTooManyRequests.json'), now), {
      error: 'TooManyRequestsError', message: 'You have used all your account subscriptions quota. Please wait until 2024-03-12T14:10:02.000Z.', retryAfterMs: 2_000,
    });
  });
  it('reads the terminal connection from the account record', () => {
    assert.deepEqual(parseConnection(fixture('account.json')), { connected: true, status: 'CONNECTED' });
    assert.deepEqual(parseConnection(fixture('accountDisconnected.json')), { connected: false, status: 'DISCONNECTED_FROM_BROKER' });
  });
});

describe('mt5 orders and deals', () => {
  const open = parseOrders(fixture('openOrders.json'))!;
  const history = parseOrders(fixture('historyOrders.json'))!;
  const deals = parseDeals(fixture('historyDeals.json'))!;

  it('reads orders and deals, dropping unreadable rows', () => {
    assert.equal(open.length, 3);
    assert.equal(history.length, 3);
    assert.equal(deals.length, 5);
  });

  it('knows ours by magic number and comment token', () => {
    const t = commentToken('or-7f3a91c2-limit');
    assert.deepEqual(open.filter((o) => isOurs(o, MAGIC, t)).map((o) => o.id), ['47138401']);
    assert.equal(open.filter((o) => isOurs(o, MAGIC, 'manual')).length, 0, 'the comment alone is not enough');
  });

  it('builds a partially filled limit order: lots → units, a repeated deal once, a canceled deal not at all', () => {
    const s = orderState('or-7f3a91c2-limit', open[0], deals, '', true);
    assert.equal(s.status, 'PARTIALLY_FILLED');
    assert.equal(s.symbol, 'EURUSD');
    assert.equal(s.side, 'BUY');
    assert.equal(s.quantity, 50_000);
    assert.deepEqual(s.fills, [{ tradeId: '33230141', quantity: 20_000, price: 1.0831, fee: 0.7, venueTime: Date.parse('2024-03-12T14:05:40.020Z') }]);
    assert.equal(s.filledQty, 20_000, 'the canceled deal no longer counts');
    assert.equal(s.venueOrderId, '47138401');
    assert.equal(s.fillsComplete, true);
    assert.equal(s.venueTime, Date.parse('2024-03-12T14:05:40.020Z'));
  });

  it('builds filled, canceled and rejected history orders', () => {
    const filled = orderState('or-11b0c4de-market', history[0], deals, '', false);
    assert.deepEqual([filled.status, filled.side, filled.quantity, filled.filledQty, filled.fills.length, filled.fills[0].fee], ['FILLED', 'SELL', 25_000, 25_000, 1, 0.88]);
    assert.equal(filled.fillsComplete, undefined);
    const canceled = orderState('x', history[1], deals, '', true);
    assert.deepEqual([canceled.status, canceled.quantity, canceled.filledQty], ['CANCELED', 5, 0]);
    const rejected = orderState('y', history[2], deals, '', true);
    assert.deepEqual([rejected.status, rejected.rejectReason], ['REJECTED', 'rejected: trading disabled']);
  });

  it('sees a restated deal as a correction and a canceled deal as a bust', () => {
    const [corrected, canceled] = parseDeals(fixture('historyDealsAmended.json'))!;
    const byId = new Map(deals.map((d) => [d.id, d]));
    assert.deepEqual(dealAmendment(byId.get('33230140'), corrected, 'cid', 100_000, 9), {
      kind: 'correction', clientOrderId: 'cid', tradeId: '33230140', quantity: 25_000, price: 1.08418, fee: 0.88, venueTime: 9,
    });
    assert.deepEqual(dealAmendment(byId.get('33230141'), canceled, 'cid', 100_000, 9), { kind: 'bust', clientOrderId: 'cid', tradeId: '33230141', venueTime: 9 });
    assert.equal(dealAmendment(byId.get('33230140'), byId.get('33230140')!, 'cid', 100_000, 9), null);
    assert.equal(dealAmendment(undefined, corrected, 'cid', 100_000, 9), null, 'first sight is a fill, not an amendment');
  });

  it('reads our positions in units', () => {
    assert.deepEqual(parsePositions(fixture('positions.json'), MAGIC, ''), [
      { positionId: '47138322', symbol: 'EURUSD', side: 'SELL', quantity: 25_000, lots: 0.25, openPrice: 1.08421, venueTime: Date.parse('2024-03-12T13:58:02.151Z') },
    ]);
  });
});

describe('mt5 config', () => {
  it('takes credentials from the environment, names bad fields, and redacts for logs', async () => {
    const { loadMt5Config, parseMt5Config, describeMt5Config } = await import('../../connectors/mt5/config.ts');
    const c = loadMt5Config({ MT5_ACCOUNT_ID: '865d3a4d-3803-486d-bdf3-a85679d9fad2', MT5_BRIDGE_TOKEN: 'tok-0123456789abcdef-secret', MT5_MAGIC: '4242' });
    assert.equal(c.magic, 4242);
    assert.equal(c.pollMs, 1_000);
    assert.ok(Object.isFrozen(c));
    assert.ok(!JSON.stringify(c).includes('tok-0123456789abcdef-secret'), 'a dumped config keeps the token hidden');
    assert.equal(c.token.reveal(), 'tok-0123456789abcdef-secret');
    const shown = JSON.stringify(describeMt5Config(c));
    assert.ok(!shown.includes('tok-0123456789abcdef-secret') && !shown.includes('865d3a4d-3803-486d-bdf3-a85679d9fad2'));
    assert.throws(() => parseMt5Config({ accountId: 'a', token: 'short' }), (e: Error) => /token/.test(e.message) && !e.message.includes('short'));
    assert.throws(() => loadMt5Config({ MT5_ACCOUNT_ID: 'a', MT5_BRIDGE_TOKEN: 'tok-0123456789abcdef', MT5_MAGIC: 'x' }), /magic/);
  });
});

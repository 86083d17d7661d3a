// venue-check, the pure parts: the safe order's terms, the client order id, the scrubbing of credential
// values, and the command's refusals of bad usage (exit code 2, nothing sent).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkClientOrderId, checkOrderTerms } from '../../connectors/venueCheck.ts';
import { runVenueCheckCommand, scrub } from '../../edge/main/venueCheck.ts';

const rules = (over = {}) => ({ symbol: 'X', venueSymbol: 'X', trading: true, lotSize: 0.00001, tickSize: 0.01, minNotional: 5, minQty: 0.00001, maxQty: 9000, ...over });

describe('venue-check terms', () => {
  it('prices under the bid on the tick and sizes at the least the rules allow', () => {
    assert.deepEqual(checkOrderTerms(64990, rules(), 10), { price: 58491, quantity: 0.00009 }, 'min notional 5 (+5%) at 58491');
    assert.deepEqual(checkOrderTerms(1.0842, rules({ tickSize: 0.00001, lotSize: 1000, minQty: 1000, minNotional: 0 }), 10), { price: 0.97578, quantity: 1000 });
    assert.deepEqual(checkOrderTerms(190.11, null, 10), { price: 171.09, quantity: 1 }, 'no rules: a cent tick, one unit');
    assert.deepEqual(checkOrderTerms(190.11, rules({ tickSize: 0.05 }), 50, 3), { price: 95.05, quantity: 3 }, 'a given quantity is kept');
    assert.equal(checkOrderTerms(0.001, rules({ tickSize: 0.01 }), 90).price, 0.01, 'never under one tick');
  });

  it('mints a 20-character alphanumeric client order id, different each time', () => {
    const a = checkClientOrderId();
    assert.match(a, /^vchk[a-z0-9]{16}$/);
    assert.notEqual(a, checkClientOrderId());
  });

  it('scrubs the values of credential variables, and only those', () => {
    const env = { BINANCE_SECRET_KEY: 'sup3r-secret-value', MT5_BRIDGE_TOKEN: 'tok-123456', IBKR_SESSION_COOKIE: 'cookie-abcdef', BINANCE_BASE_URL: 'http://x', SHORT_KEY: 'abc' };
    assert.equal(scrub('a sup3r-secret-value b tok-123456 c cookie-abcdef d http://x abc', env), 'a [redacted] b [redacted] c [redacted] d http://x abc');
  });
});

describe('venue-check usage', () => {
  it('refuses an unknown venue, a bad option value or an unknown option with exit code 2', async () => {
    const lines: string[] = [];
    const run = (args: string[]) => runVenueCheckCommand(args, {}, (l) => lines.push(l));
    assert.equal(await run([]), 2);
    assert.equal(await run(['nasdaq']), 2);
    assert.match(lines.at(-1)!, /expected one of paper, alpaca, binance, ibkr, mt5/);
    assert.equal(await run(['paper', '--away', '150']), 2);
    assert.match(lines.at(-1)!, /--away: invalid value/);
    assert.equal(await run(['paper', '--frobnicate']), 2);
  });

  it('a configuration error fails naming the variable, never its value', async () => {
    const lines: string[] = [];
    const code = await runVenueCheckCommand(['binance'], { BINANCE_SECRET_KEY: 'only-the-secret-0123456789' }, (l) => lines.push(l));
    assert.equal(code, 1);
    assert.match(lines.join('\n'), /FAILED {2}configuration: .*BINANCE_API_KEY|FAILED {2}configuration: .*apiKey/);
    assert.ok(!lines.join('\n').includes('only-the-secret-0123456789'));
  });
});

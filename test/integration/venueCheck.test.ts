// `order-router venue-check` against the paper venue and against each fake in test/fakes/<venue>/
// (written from the venues' documents), configured only through the environment variables the
// connector reads: every step passes, nothing secret is printed; a venue that is down or refuses the
// credentials fails with exit code 1 and a reason.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { runVenueCheckCommand } from '../../edge/main/venueCheck.ts';
import { startAlpacaFake } from '../fakes/alpaca/server.ts';
import { startBinanceFake } from '../fakes/binance/server.ts';
import { createFakeIbkrGateway } from '../fakes/ibkr/fake.ts';
import { createFakeMt5Bridge } from '../fakes/mt5/server.ts';
import { testLog } from '../helpers/env.ts';

const stops: (() => Promise<void>)[] = [];
after(async () => { for (const s of stops.reverse()) await s().catch(() => {}); });

async function check(args: string[], env: Record<string, string>, secrets: string[] = []) {
  const lines: string[] = [];
  const code = await runVenueCheckCommand([...args, '--wait', '5'], { PATH: process.env.PATH, ...env }, (l) => lines.push(l));
  const text = lines.join('\n');
  if (process.env.VENUE_CHECK_SHOW) console.log(text); // VENUE_CHECK_SHOW=1 prints each run
  for (const s of secrets) assert.ok(!text.includes(s), `a secret was printed:\n${text}`);
  return { code, lines, text, status: (step: string) => lines.find((l) => l.slice(8).startsWith(`${step}:`))?.slice(0, 7).trim() };
}

const STEPS = ['connect', 'instrument rules', 'quote', 'limit order', 'look-up by client order id', 'cancel', 'stream: the new order', 'stream: its cancel'];
function allPassed(r: Awaited<ReturnType<typeof check>>, skipped: string[] = []) {
  for (const step of STEPS) assert.equal(r.status(step), skipped.includes(step) ? 'SKIPPED' : 'PASSED', `${step}\n${r.text}`);
  assert.equal(r.code, 0, r.text);
}

describe('venue-check', () => {
  it('paper: every step passes, its instrument rules included; down: exit 1 naming the step', async () => {
    const venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 3, tickMs: 50 }), log: testLog() });
    const url = await venue.start(0, '127.0.0.1');
    stops.push(() => venue.stop());
    allPassed(await check(['paper'], { PAPER_VENUE_URL: url }));
    const down = await check(['paper'], { PAPER_VENUE_URL: 'http://127.0.0.1:9', VENUE_TIMEOUT_MS: '300' });
    assert.equal(down.code, 1);
    assert.equal(down.status('connect'), 'FAILED', down.text);
    assert.equal(down.status('cancel'), 'FAILED');
  });

  it('binance (test/fakes/binance): every step passes; a wrong secret fails, unprinted', async () => {
    const apiKey = 'vcHKx1TmpAPIkeyBinance0123456789abcdefABCDEF0123456789abcdefAB';
    const secretKey = 'vcHKsecretBinance9876543210fedcbaFEDCBA9876543210fedcbaFEDCBA98';
    const fake = await startBinanceFake({ apiKey, secretKey, pingMs: 300 });
    stops.push(() => fake.stop());
    const env = { BINANCE_BASE_URL: fake.url, BINANCE_WS_API_URL: fake.wsApiUrl, BINANCE_STREAM_URL: fake.streamUrl, BINANCE_API_KEY: apiKey, BINANCE_SECRET_KEY: secretKey, BINANCE_UNKNOWN_WINDOW_MS: '1000' };
    allPassed(await check(['binance'], env, [apiKey, secretKey]));
    const wrong = 'vcHKwrongSecret0000000000000000000000000000000000000000000000000';
    const bad = await check(['binance'], { ...env, BINANCE_SECRET_KEY: wrong }, [apiKey, wrong]);
    assert.equal(bad.code, 1, bad.text);
    assert.match(bad.lines.find((l) => l.includes('limit order:')) ?? '', /^FAILED {2}limit order: VENUE_AUTH/, 'the refusal is named');
    assert.equal(bad.status('clean-up'), undefined, 'a conclusive refusal left nothing to clean up');
  });

  it('alpaca (test/fakes/alpaca): every step passes', async () => {
    const keyId = 'PKVCHK0000KEYID0001';
    const secretKey = 'alpaca-secret-vchk-0123456789abcdef';
    const fake = await startAlpacaFake({ keyId, secretKey });
    stops.push(() => fake.stop());
    fake.knobs.setQuote('AAPL', { bp: 190.1, bs: 3, ap: 190.12, as: 5 });
    allPassed(await check(['alpaca', '--symbol', 'AAPL'], { ALPACA_BASE_URL: fake.url, ALPACA_DATA_URL: fake.url, ALPACA_KEY_ID: keyId, ALPACA_SECRET_KEY: secretKey }, [keyId, secretKey]));
  });

  it('ibkr (test/fakes/ibkr): every step passes', async () => {
    const accountId = 'DU7770123';
    const sessionCookie = 'vchk-session-cookie-0123456789abcdef';
    const fake = createFakeIbkrGateway({ accountId, heartbeatMs: 300 });
    const baseUrl = await fake.start();
    stops.push(() => fake.stop());
    allPassed(await check(['ibkr'], { IBKR_BASE_URL: baseUrl, IBKR_ACCOUNT_ID: accountId, IBKR_SESSION_COOKIE: sessionCookie }, [sessionCookie]));
  });

  it('mt5 (test/fakes/mt5): every step passes', async () => {
    const accountId = '7c1d9e7a-51b3-4d0e-9c4a-7e6d5b4a3c99';
    const token = 'metaapi-token-vchk-eyJhbGciOiJSUzUxMiJ9-0099';
    const fake = createFakeMt5Bridge({ accountId, token });
    const url = await fake.start();
    stops.push(() => fake.stop());
    allPassed(await check(['mt5'], { MT5_BRIDGE_URL: url, MT5_PROVISIONING_URL: url, MT5_ACCOUNT_ID: accountId, MT5_BRIDGE_TOKEN: token }, [token]));
  });
});

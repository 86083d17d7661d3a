// The ops dashboard in real headless Chromium against the real stack: an operator signs in, watches a
// fill arrive without reloading, halts a strategy through the confirmation dialog and sees the next
// alert denied with TRADING_HALTED; a viewer sees the controls disabled; nothing is served without a
// token. Streams are cut every few seconds (DASHBOARD_STREAM_MAX_SEC) so the page also has to stay
// right across reconnects. Screenshots go to test/artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { isolatedEnv, testLog, tradingViewAlert, waitFor, TEST_SECRET } from '../helpers/env.ts';

const OPERATOR = 'it-dash-operator-4c9e2a7f1b3d5e8a6c0f';
const VIEWER = 'it-dash-viewer-8b1d3f5a7c9e2b4d6f8a';
const OPS_TOKENS = JSON.stringify([{ name: 'bob', role: 'operator', token: OPERATOR }, { name: 'vic', role: 'viewer', token: VIEWER }]);
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NO_BROWSER = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;

describe('ops dashboard', { skip: NO_BROWSER }, () => {
  const env = isolatedEnv({ OPS_TOKENS, DASHBOARD_REFRESH_MS: '500', DASHBOARD_STREAM_MAX_SEC: '5' });
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    // Both settle before either failure is thrown, so `after` can stop whatever did start.
    const [p, b] = await Promise.allSettled([
      startPipeline({ env, log: testLog() }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      }),
    ]);
    if (p.status === 'fulfilled') pipeline = p.value;
    if (b.status === 'fulfilled') browser = b.value;
    if (p.status === 'rejected') throw p.reason;
    if (b.status === 'rejected') throw b.reason;
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
  });
  after(async () => {
    await browser?.close();
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  async function alert(over: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ idempotency_key: randomUUID(), time: new Date().toISOString(), ...over })),
    });
    assert.equal(res.status, 202);
    return ((await res.json()) as { signalId: string }).signalId;
  }

  async function signIn(token: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${pipeline.edgeUrl}/dashboard`);
    await page.fill('#token', token);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#conn[data-state="live"]');
    return page;
  }

  /** The page's numbers for one position, from the raw values behind the formatted cells. */
  const pageRow = (page: Page, key: string) => page.$$eval(`#positions tr[data-position="${key}"] td`, (tds) => tds.map((td) => td.getAttribute('data-value')));

  async function assertPageEqualsPostgres(page: Page): Promise<void> {
    const { rows } = await pool.query('SELECT account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count FROM positions ORDER BY 1, 2, 3');
    assert.ok(rows.length > 0);
    await waitFor('the page to show every position as Postgres has it', async () => {
      for (const r of rows) {
        const cells = await pageRow(page, `${r.account_id}|${r.symbol}|${r.venue}`);
        // account, symbol, venue, quantity, avg price, mark, realized, unrealized, fees, net, fills, updated
        const shown = [cells[3], cells[4], cells[6], cells[8], cells[10]].map(Number);
        if (JSON.stringify(shown) !== JSON.stringify([r.quantity, r.avg_price, r.realized_pnl, r.fees, r.fill_count])) return false;
      }
      const realized = rows.reduce((s, r) => s + r.realized_pnl, 0);
      return Math.abs(Number(await page.getAttribute('#kpi-realized .kpi-value', 'data-value')) - realized) < 1e-9;
    }, 10_000);
  }

  /** The page's P&L check agrees, and its DuckDB figures are what GET /analytics/pnl answers. */
  async function assertPageEqualsDuckDb(page: Page): Promise<void> {
    const positions = (await pool.query('SELECT count(*)::int AS n FROM positions')).rows[0].n;
    await page.waitForFunction((n) => {
      const rows = [...document.querySelectorAll('#recon tr[data-recon]')];
      return rows.length === n && rows.every((r) => r.getAttribute('data-match') === 'true');
    }, positions, { timeout: 15_000 });
    const res = await fetch(`${pipeline.edgeUrl}/analytics/pnl?by=account,symbol,venue&format=json`, { headers: { authorization: `Bearer ${VIEWER}` } });
    const duck = (await res.json()) as { columns: { name: string }[]; rows: unknown[][] };
    const at = (name: string) => duck.columns.findIndex((c) => c.name === name);
    assert.equal(duck.rows.length, positions);
    for (const r of duck.rows) {
      const cells = await page.$$eval(`#recon tr[data-recon="${r[at('account')]}|${r[at('symbol')]}|${r[at('venue')]}"] td`, (tds) => tds.map((td) => td.getAttribute('data-value')));
      // account, symbol, venue, realized (pg), realized (duck), fees (pg), fees (duck)
      assert.deepEqual([Number(cells[4]), Number(cells[6])], [r[at('realized_pnl')], r[at('fees')]]);
    }
  }

  it('serves no data without a token (401), only the page itself', async () => {
    const url = pipeline.edgeUrl!;
    assert.equal((await fetch(`${url}/dashboard`)).status, 200);
    assert.equal((await fetch(`${url}/dashboard/api/snapshot`)).status, 401);
    assert.equal((await fetch(`${url}/dashboard/api/snapshot`, { headers: { authorization: `Bearer ${'x'.repeat(40)}` } })).status, 401);
    assert.equal((await fetch(`${url}/dashboard/session`, { method: 'POST' })).status, 401);
    assert.equal((await fetch(`${url}/dashboard/events`)).status, 401);
    assert.equal((await fetch(`${url}/dashboard/events?ticket=${OPERATOR}`)).status, 401, 'a token is not a ticket');
    const forged = Buffer.from(JSON.stringify({ n: 'bob', r: 'admin', e: Date.now() + 60_000 })).toString('base64url');
    assert.equal((await fetch(`${url}/dashboard/events?ticket=${forged}.AAAA`)).status, 401);
    const snap = await fetch(`${url}/dashboard/api/snapshot`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(snap.status, 200);
    assert.ok(Array.isArray(((await snap.json()) as { decisions: unknown[] }).decisions));
  });

  it('an operator sees a fill arrive live, halts a strategy after confirming, and sees the next alert denied', async () => {
    const page = await signIn(OPERATOR);
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });

    const signalId = await alert({ contracts: '10' });
    const decision = await page.waitForSelector(`#decisions tr[data-signal-id="${signalId}"][data-verdict="APPROVED"]`);
    const orderId = await decision.getAttribute('data-order-id');
    assert.ok(orderId);
    await page.waitForSelector(`#fills tr[data-order-id="${orderId}"]`);
    await page.waitForSelector(`#orders tr[data-order-id="${orderId}"][data-status="FILLED"]`);
    await alert({ strategy: 'meanrev-2', secret: TEST_SECRET, ticker: 'NASDAQ:MSFT', action: 'buy', contracts: '5', price: '420' });
    await alert({ ticker: 'COINBASE:BTCUSD', action: 'buy', contracts: '0.5', price: '65000' });
    await waitFor('three fills in Postgres', async () => (await pool.query("SELECT count(*)::int AS n FROM executions WHERE type IN ('FILL', 'PARTIAL_FILL')")).rows[0].n >= 3);
    await page.waitForSelector('#positions tr[data-position="ACC-2|MSFT|paper"]');
    await assertPageEqualsPostgres(page);
    await assertPageEqualsDuckDb(page);
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');

    await page.click('#strategies tr[data-strategy="trend-1"] button[data-action="halt"]');
    await page.waitForSelector('#confirm[open]');
    assert.match((await page.textContent('#confirm-title'))!, /Halt strategy trend-1/);
    await page.fill('#confirm-reason', 'dashboard drill');
    await page.click('#confirm-ok');
    await page.waitForSelector('#states tr[data-scope="STRATEGY"][data-target="trend-1"][data-state="HALTED"]');
    const row = (await pool.query("SELECT state, reason, updated_by FROM control_states WHERE scope = 'STRATEGY' AND target = 'trend-1'")).rows[0];
    assert.deepEqual(row, { state: 'HALTED', reason: 'dashboard drill', updated_by: 'bob' });

    await sleep(1000); // the decide processor reads `control` on its own
    const denied = await alert({ contracts: '3' });
    const cells = await page.waitForSelector(`#decisions tr[data-signal-id="${denied}"][data-verdict="DENIED"][data-reason="TRADING_HALTED"]`);
    assert.match((await cells.textContent())!, /TRADING_HALTED/);

    // Streams end every 5 s: after at least one reconnect, the page still equals Postgres.
    await page.waitForSelector('#conn[data-state="live"]:not([data-connects="1"])', { timeout: 15_000 });
    await assertPageEqualsPostgres(page);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('a viewer sees the numbers but every control is disabled', async () => {
    const page = await signIn(VIEWER);
    await page.waitForSelector('#strategies tr[data-strategy="trend-1"]');
    const buttons = await page.$$eval('button[data-action]', (bs) => bs.map((b) => (b as HTMLButtonElement).disabled));
    assert.ok(buttons.length >= 3 + 3 * 2);
    assert.ok(buttons.every((d) => d), 'every halt/reduce/resume button is disabled');
    assert.match((await page.textContent('#ctl-note'))!, /viewer/);
    const res = await page.evaluate(async (t) => (await fetch('/ops/halt', {
      method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'desk' }),
    })).status, VIEWER);
    assert.equal(res, 403, 'and the server refuses a viewer anyway');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-viewer.png'), fullPage: true });
    await page.close();
  });
});

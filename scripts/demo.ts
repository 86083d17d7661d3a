// npm run demo: the whole pipeline on the local stack. Starts the paper venue and every component,
// sends a realistic sequence of TradingView alerts for two strategies (a repeated alert and one with a
// wrong secret among them; a resting limit, the cancel alert that removes it, an exit, an entry with a
// bracket whose take-profit fills and whose stop is canceled), then prints the decision trail and the
// positions table from Postgres.
// The components' own logs go to .logs/demo/<time>.log (printed at the start), not into the report.
import { createPaperVenueServer } from '../connectors/paper/server.ts';
import { parsePaperConfig } from '../connectors/paper/config.ts';
import { startPipeline } from '../edge/main/pipeline.ts';
import { createPool } from '../streams/runtime/db.ts';
import { createLogger, fileDestination, setDefaultLogDestination } from '../streams/runtime/log.ts';
import { readTrail, printPositions, printTrail, waitForExit } from './report.ts';
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateToken } from '../edge/ops/auth.ts';
import { TS_NODE_ARGS } from '../streams/runtime/tsNode.ts';

const SECRETS = { 'trend-1': 'demo-trend-secret-7f3a9c21', 'meanrev-2': 'demo-meanrev-secret-b81d44e0' } as const;
type Strategy = keyof typeof SECRETS;

const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  TOPIC_PREFIX: process.env.TOPIC_PREFIX ?? `demo-${stamp}.`,
  PG_SCHEMA: process.env.PG_SCHEMA ?? `demo_${stamp}`,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  EDGE_PORT: process.env.EDGE_PORT ?? '0',
  ORDER_ROUTER_STRATEGIES: JSON.stringify([
    { id: 'trend-1', account: 'ACC-TREND', secrets: [SECRETS['trend-1']] },
    { id: 'meanrev-2', account: 'ACC-MEANREV', secrets: [SECRETS['meanrev-2']] },
  ]),
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// --keep (or DEMO_KEEP=1): leave the pipeline running after the report, for the dashboard.
const keep = process.argv.includes('--keep') || process.env.DEMO_KEEP === '1';
// Without OPS_TOKENS of your own, the demo makes one operator token so the dashboard can be opened.
const demoToken = env.OPS_TOKENS ? null : generateToken();
if (demoToken) env.OPS_TOKENS = JSON.stringify([{ name: 'demo', role: 'operator', token: demoToken }]);

const logFile = fileDestination(fileURLToPath(new URL(`../.logs/demo/${stamp}.log`, import.meta.url)));
setDefaultLogDestination(logFile);

async function main(): Promise<void> {
  const log = createLogger('demo', env.LOG_LEVEL);
  console.log(`logs          ${relative(process.cwd(), logFile.path)}`);
  const venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 42 }), log: log.child({ component: 'paper-venue' }) });
  const venueUrl = await venue.start(0, '127.0.0.1');
  env.PAPER_VENUE_URL = venueUrl;
  console.log(`paper venue   ${venueUrl}`);
  const pipeline = await startPipeline({ env, log });
  console.log(`edge          ${pipeline.edgeUrl}`);
  console.log(`dashboard     ${pipeline.edgeUrl}/dashboard${demoToken ? `   (operator token: ${demoToken})` : ''}`);
  console.log(`topics        ${env.TOPIC_PREFIX}*   postgres schema ${env.PG_SCHEMA}\n`);

  const t0 = Date.now();
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const alert = (strategy: Strategy, fields: Record<string, unknown>, secret: string = SECRETS[strategy]) => ({ secret, strategy, ...fields });
  const [msft] = (await (await fetch(`${venueUrl}/v1/quotes?symbols=MSFT`)).json()) as { bid: number; ask: number }[];
  const restingBid = Math.floor(msft.bid * 0.99 * 100) / 100;
  const alerts: [string, Record<string, unknown>][] = [
    ['trend-1 buys 10 AAPL', alert('trend-1', { ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '10', order_id: 'Long', time: at(0), price: '190.05' })],
    ['meanrev-2 sells 20000 EURUSD', alert('meanrev-2', { ticker: 'FX:EURUSD', action: 'sell', contracts: '20000', order_id: 'Short', time: at(1), price: '1.0801' })],
    ['trend-1 buys 0.5 BTCUSD', alert('trend-1', { ticker: 'COINBASE:BTCUSD', action: 'buy', contracts: '0.5', order_id: 'Long', time: at(2), price: '65010' })],
    ['trend-1 AAPL alert fired again (TradingView retry)', alert('trend-1', { ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '10', order_id: 'Long', time: at(0), price: '190.05' })],
    ['meanrev-2 with a wrong secret', alert('meanrev-2', { ticker: 'NASDAQ:MSFT', action: 'buy', contracts: '5', order_id: 'Long', time: at(3), price: '420.10' }, 'not-the-secret-at-all')],
    ['meanrev-2 buys 5 MSFT', alert('meanrev-2', { ticker: 'NASDAQ:MSFT', action: 'buy', contracts: '5', order_id: 'Long', time: at(4), price: '420.10' })],
    ['trend-1 targets long 25 AAPL', alert('trend-1', { ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '15', market_position: 'long', market_position_size: '25', order_id: 'Add', time: at(5), price: '190.40' })],
    ['trend-1 same target again (late duplicate, new time)', alert('trend-1', { ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '15', market_position: 'long', market_position_size: '25', order_id: 'Add', time: at(6), price: '190.40' })],
    ['trend-1 sells 0.2 BTCUSD', alert('trend-1', { ticker: 'COINBASE:BTCUSD', action: 'sell', contracts: '0.2', order_id: 'Trim', time: at(7), price: '65120' })],
    ['meanrev-2 covers: flat EURUSD', alert('meanrev-2', { ticker: 'FX:EURUSD', action: 'buy', contracts: '20000', market_position: 'flat', market_position_size: '0', order_id: 'Cover', time: at(8), price: '1.0795' })],
    ['trend-1 sells 10 AAPL', alert('trend-1', { ticker: 'NASDAQ:AAPL', action: 'sell', contracts: '10', order_id: 'Trim', time: at(9), price: '190.80' })],
    // Issue 17's actions: a buy limit that rests under the market, the strategy's cancel that removes it,
    // and an exit that closes a position whatever its size.
    ['meanrev-2 rests a buy limit 5 MSFT 1 % under the bid', alert('meanrev-2', {
      ticker: 'NASDAQ:MSFT', action: 'buy', contracts: '5', order_type: 'limit', limit_price: restingBid.toFixed(2), time_in_force: 'gtc', order_id: 'Dip', time: at(10), price: msft.bid.toFixed(2),
    })],
    ['meanrev-2 cancels its working MSFT orders', alert('meanrev-2', { ticker: 'NASDAQ:MSFT', action: 'cancel', order_id: 'Cancel', time: at(11) })],
    ['trend-1 exits BTCUSD (closes the 0.3 left)', alert('trend-1', { ticker: 'COINBASE:BTCUSD', action: 'exit', order_id: 'Exit', time: at(12), price: '65200' })],
    // A bracket: once the entry fills, the pipeline places its take-profit and stop-loss (one cancels the other).
    ['trend-1 buys 2 ETHUSD, take-profit +0.05 %, stop-loss -2 %', alert('trend-1', {
      ticker: 'COINBASE:ETHUSD', action: 'buy', contracts: '2', order_id: 'Bracket', time: at(13), price: '3200',
      take_profit: { percent: '0.05' }, stop_loss: { type: 'stop', percent: '2' },
    })],
  ];

  console.log('Alerts sent to POST /webhooks/tradingview');
  const accepted: string[] = [];
  for (const [label, body] of alerts) {
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { signalId?: string; duplicate?: boolean; error?: { code: string } };
    if (res.status === 202 && answer.signalId) accepted.push(answer.signalId);
    console.log(`  ${String(res.status).padEnd(4)} ${label.padEnd(52)} ${answer.signalId ? `${answer.signalId.slice(0, 16)}… duplicate=${answer.duplicate}` : answer.error?.code}`);
    await sleep(150); // a human-scale sequence, and marks move a little between alerts
  }

  // The market reaches the ETHUSD take-profit: another participant buys everything up to its price (the
  // paper venue's own random walk might take minutes to get there). The stop-loss is then canceled.
  const tp = await waitForExit(env, pipeline.topics, 'ETHUSD', 'TAKE_PROFIT', 30000);
  if (tp === null || tp.limitPrice === null) console.log('\n(the ETHUSD take-profit was not placed in time)');
  else {
    for (let i = 0; i < 50; i++) { // until it rests at the venue
      const r = await fetch(`${venueUrl}/v1/orders/${tp.clientOrderId}`);
      if (r.status === 200) break;
      await sleep(200);
    }
    const res = await fetch(`${venueUrl}/v1/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientOrderId: `demo-buyer-${stamp}`, symbol: 'ETHUSD', side: 'BUY', quantity: 1000, type: 'LIMIT', limitPrice: tp.limitPrice, timeInForce: 'IOC' }),
    });
    console.log(`\nAnother participant buys ETHUSD up to the take-profit's ${tp.limitPrice} (paper venue answers ${res.status})`);
  }

  const pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
  try {
    const trail = await readTrail(env, pipeline.topics, accepted, 30000);
    printTrail(trail);
    await printPositions(pool, venueUrl);
    // The same fills through the Parquet sink, answered by DuckDB: the quants' view of the run.
    await sleep(2500);
    console.log('\nP&L from DuckDB over the Parquet files (`order-router pnl --by account,strategy,symbol`)');
    console.log(execFileSync(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', 'pnl', '--by', 'account,strategy,symbol'], { env, encoding: 'utf8' }));
    if (keep) {
      console.log(`\nThe pipeline keeps running: ${pipeline.edgeUrl}/dashboard${demoToken ? ` (operator token: ${demoToken})` : ''}. Ctrl-C stops it.`);
      await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    }
  } finally {
    await pool.end();
    await pipeline.stop();
    await venue.stop();
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  console.error(`component logs: ${relative(process.cwd(), logFile.path)}`);
  process.exit(1);
});

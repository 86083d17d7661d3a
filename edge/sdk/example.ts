// A strategy in a few lines against the SDK: follows its own fills and positions, buys one share when
// the AAPL mid crosses above its 20-quote average and goes flat when it crosses below. Run it beside the
// pipeline: EDGE_URL=http://127.0.0.1:8080 STRATEGY=trend-1 STRATEGY_SECRET=... npx node edge/sdk/example.ts
import { connect, type Offsets } from '../sdk/index.ts';

const url = process.env.EDGE_URL ?? 'http://127.0.0.1:8080';
const strategy = process.env.STRATEGY ?? 'trend-1';
const secret = process.env.STRATEGY_SECRET;
if (!secret) throw new Error('STRATEGY_SECRET is required');
// A cursor saved by an earlier run (JSON), so a restart picks up where it left off.
const resumeFrom = process.env.RESUME_FROM ? (JSON.parse(process.env.RESUME_FROM) as Offsets) : undefined;

const client = connect({ url, strategy, secret, symbols: ['AAPL'], resumeFrom });
const mids: number[] = [];
let above: boolean | null = null;

client.on('ready', (r) => console.log(`stream open for ${r.strategy} (account ${r.account})`));
client.on('decision', (d) => console.log(`decision ${d.verdict}${d.reason ? ` ${d.reason}` : ''} for ${d.symbol}`));
client.on('fill', (f) => console.log(`fill ${f.side} ${f.lastQty} ${f.symbol} @ ${f.lastPrice} on ${f.venue}`));
client.on('position', (p) => console.log(`position ${p.symbol}@${p.venue}: ${p.quantity} (avg ${p.avgPrice}, realized ${p.realizedPnl})`));
client.on('disconnected', (d) => console.log(`disconnected ${d.code} ${d.reason}${d.reconnecting ? ', reconnecting' : ''}`));
client.on('quote', (q) => {
  mids.push((q.bid + q.ask) / 2);
  if (mids.length > 20) mids.shift();
  if (mids.length < 20) return;
  const now = mids[mids.length - 1] > mids.reduce((a, b) => a + b, 0) / mids.length;
  if (above !== null && now !== above) {
    const signal = now ? { symbol: 'AAPL', intent: 'target' as const, target: 1 } : { symbol: 'AAPL', intent: 'flat' as const };
    client.submit(signal).then((r) => console.log(`signal ${r.signalId}${r.duplicate ? ' (duplicate)' : ''}`), (e: Error) => console.error(`signal refused: ${e.message}`));
  }
  above = now;
});

process.on('SIGINT', () => {
  console.log(`RESUME_FROM='${JSON.stringify(client.cursor())}'`);
  client.close();
});

// Load generator, run as its own process so it does not share the pipeline's event loop.
// Posts TradingView alerts and prints one JSON line: per-request send time, status and answer time.
//   node scripts/bench/loadgen.ts '<json options>'
import http from 'node:http';
import { preciseNow, atFixedRate } from './hist.ts';

export interface LoadOptions {
  url: string;
  /** Fixed rate in alerts/s; 0 = as fast as `connections` allow, for `seconds`. */
  rate: number;
  count: number;
  seconds: number;
  connections: number;
  runId: string;
  strategies: { id: string; secret: string }[];
  symbols: string[];
}

/** `samples`: every answered request as [signal id, sent at, answered at, HTTP status] (ms, preciseNow). */
export interface LoadResult { sent: number; ok: number; other: Record<string, number>; samples: [string, number, number, number][]; elapsedMs: number }

function body(o: LoadOptions, i: number): { id: string; text: string } {
  const s = o.strategies[i % o.strategies.length];
  const id = `${o.runId}-${i}`;
  // The edge scopes a caller's key by strategy: this is the signal id it will mint.
  return { id: `${s.id}:${id}`, text: JSON.stringify({ secret: s.secret, strategy: s.id, ticker: o.symbols[i % o.symbols.length], action: i % 2 ? 'sell' : 'buy', contracts: '1', idempotency_key: id, time: new Date().toISOString() }) };
}

export async function generateLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const target = new URL(o.url);
  const post = (text: string) => new Promise<number>((resolve, reject) => {
    const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(text);
  });
  const result: LoadResult = { sent: 0, ok: 0, other: {}, samples: [], elapsedMs: 0 };
  const one = async (i: number) => {
    const { id, text } = body(o, i);
    const t0 = preciseNow();
    result.sent++;
    try {
      const status = await post(text);
      if (status === 202) result.ok++;
      else result.other[status] = (result.other[status] ?? 0) + 1;
      result.samples.push([id, t0, preciseNow(), status]);
    } catch (e) {
      const k = (e as { code?: string }).code ?? 'error';
      result.other[k] = (result.other[k] ?? 0) + 1;
    }
  };
  const start = preciseNow();
  if (o.rate > 0) {
    const pending: Promise<void>[] = [];
    await atFixedRate(o.rate, o.count, (i) => { pending.push(one(i)); });
    await Promise.all(pending);
  } else {
    const until = start + o.seconds * 1000;
    let next = 0;
    await Promise.all(Array.from({ length: o.connections }, async () => {
      while (preciseNow() < until) await one(next++);
    }));
  }
  result.elapsedMs = preciseNow() - start;
  agent.destroy();
  return result;
}

if (process.argv[1]?.endsWith('loadgen.ts')) {
  const o = JSON.parse(process.argv[2]) as LoadOptions;
  generateLoad(o).then((r) => { process.stdout.write(`${JSON.stringify(r)}\n`); }, (e) => { console.error(e); process.exit(1); });
}

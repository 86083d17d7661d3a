// A fast HTTP client (node:http, keep-alive) and the alert sender every scenario drives the edge with:
// fixed rate, each alert a distinct TradingView message with its own idempotency key, retried on 503
// or a refused connection (what a careful sender does) across every edge instance it knows.
import http from 'node:http';
import { preciseNow } from '../bench/hist.ts';
import type { Strategy } from './harness.ts';

export interface HttpAnswer { status: number; body: string; headers: http.IncomingHttpHeaders }

export interface HttpClient {
  request(url: string, o?: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; timeoutMs?: number; fresh?: boolean }): Promise<HttpAnswer>;
  close(): void;
}

export function createHttpClient(maxSockets = 64): HttpClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    request(url, o = {}) {
      const u = new URL(url);
      return new Promise((resolve, reject) => {
        const headers: Record<string, string | string[] | number> = { ...o.headers };
        if (o.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = Buffer.byteLength(o.body);
        const req = http.request({ agent: o.fresh ? false : agent, host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'GET', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
          res.on('error', reject);
        });
        req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
        req.on('error', reject);
        req.end(o.body);
      });
    },
    close: () => agent.destroy(),
  };
}

export interface AlertOutcome {
  i: number;
  signalId: string;
  /** First attempt, epoch ms (sub-ms precision). */
  sentAt: number;
  acceptedAt: number | null;
  /** 202 / 200 when accepted, else the last status (0 = no HTTP answer). */
  status: number;
  attempts: number;
  /** Answers other than 202/200/503 (each a finding). */
  unexpected: string[];
}

export interface SendOptions {
  /** Edge base URLs; read on every attempt, so a scenario can change them while sending. */
  edges: () => string[];
  strategies: Strategy[];
  symbols: string[];
  runTag: string;
  count: number;
  ratePerSec: number;
  /** A refused alert is tried again for this long (0: once). */
  retryForMs: number;
  client: HttpClient;
  onOutcome?: (o: AlertOutcome) => void;
  /** Every attempt's answer (0 = none), with the time it came back. */
  onAttempt?: (status: number, at: number, edge: string) => void;
  /** Alert index → extra fields, e.g. limit orders. */
  extra?: (i: number) => Record<string, unknown>;
  /** Stop early (the scenario is over). */
  stopped?: () => boolean;
}

export function alertBody(o: Pick<SendOptions, 'strategies' | 'symbols' | 'runTag' | 'extra'>, i: number): { signalId: string; text: string } {
  const s = o.strategies[i % o.strategies.length];
  const key = `${o.runTag}-${i}`;
  const body = {
    secret: s.secrets[i % s.secrets.length], strategy: s.id, ticker: o.symbols[i % o.symbols.length],
    action: Math.floor(i / o.strategies.length) % 2 ? 'sell' : 'buy', contracts: '1', idempotency_key: key, ...o.extra?.(i),
  };
  // The edge scopes a body key by strategy: this is the signal id it mints.
  return { signalId: `${s.id}:${key}`, text: JSON.stringify(body) };
}

async function sendOne(o: SendOptions, i: number): Promise<AlertOutcome> {
  const { signalId, text } = alertBody(o, i);
  const out: AlertOutcome = { i, signalId, sentAt: preciseNow(), acceptedAt: null, status: 0, attempts: 0, unexpected: [] };
  const until = Date.now() + o.retryForMs;
  for (let attempt = 0; ; attempt++) {
    const edges = o.edges();
    const edge = edges[(i + attempt) % edges.length];
    out.attempts++;
    try {
      const r = await o.client.request(`${edge}/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text, timeoutMs: 5000 });
      out.status = r.status;
      o.onAttempt?.(r.status, Date.now(), edge);
      if (r.status === 202 || r.status === 200) { out.acceptedAt = preciseNow(); return out; }
      if (r.status !== 503) { out.unexpected.push(`${r.status} ${r.body.slice(0, 200)}`); return out; }
    } catch {
      out.status = 0;
      o.onAttempt?.(0, Date.now(), edge);
    }
    if (Date.now() > until || o.stopped?.()) return out;
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
  }
}

/** Sends `count` alerts at a fixed rate; resolves when every alert has its final outcome. */
export async function sendAlerts(o: SendOptions): Promise<AlertOutcome[]> {
  const results: Promise<AlertOutcome>[] = [];
  const start = performance.now();
  const interval = 1000 / o.ratePerSec;
  for (let i = 0; i < o.count && !o.stopped?.(); ) {
    const due = Math.min(o.count, Math.floor((performance.now() - start) / interval) + 1);
    for (; i < due; i++) results.push(sendOne(o, i).then((r) => { o.onOutcome?.(r); return r; }));
    await new Promise((r) => setTimeout(r, Math.max(0, start + i * interval - performance.now())));
  }
  return Promise.all(results);
}

export interface SendSummary { sent: number; accepted: number; refused: number; statuses: Record<string, number>; retried: number; unexpected: string[] }

export function summarise(outcomes: AlertOutcome[]): SendSummary {
  const statuses: Record<string, number> = {};
  for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const accepted = outcomes.filter((o) => o.acceptedAt !== null).length;
  return {
    sent: outcomes.length, accepted, refused: outcomes.length - accepted, statuses,
    retried: outcomes.filter((o) => o.attempts > 1).length,
    unexpected: outcomes.flatMap((o) => o.unexpected).slice(0, 20),
  };
}

// An HTTP proxy between the connector and the paper venue that injects the faults the venue's own
// knobs do not have: 5xx before the venue sees a request, 5xx after it acted on one (outcome unknown),
// 429 storms with Retry-After, and a push stream that stays open but goes silent. Loopback only.
// It also counts what the connector sends, per clientOrderId: every submit attempt, and a ledger
// (connectors/submitLedger.ts) of submits passed on to the venue and look-ups the venue answered, so a
// resend without a look-up shows here as well as at the venue.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubmitLedger, type SubmitSummary } from '../../connectors/submitLedger.ts';

export type FaultMode =
  | { kind: 'pass' }
  /** `ratio` of order submits answered 500 before reaching the venue. */
  | { kind: '5xx-before'; ratio: number }
  /** `ratio` of order submits forwarded, then answered 502: the order exists, the client cannot know. */
  | { kind: '5xx-after'; ratio: number }
  /** `ratio` of all calls (but the event stream) answered 429 with Retry-After: 1. */
  | { kind: '429'; ratio: number }
  /** Event streams carry nothing (no events, no pings) until the mode changes; then they are cut. */
  | { kind: 'silent' };

export interface FaultProxy {
  url: string;
  set(mode: FaultMode): void;
  /** Faults injected so far, by kind. */
  injected: Record<string, number>;
  /** Submit attempts the connector made (injected failures included), and the ledger of what reached the venue. */
  submits(): ProxySubmits;
  stop(): Promise<void>;
}

export interface ProxySubmits {
  attempts: number;
  /** Ids the connector submitted more than once (a retry after a failure is fine when it looked up first). */
  idsRetried: number;
  forwarded: SubmitSummary;
}

const LOOKUP = /^\/v1\/orders\/([^?/]+)$/;
const clientOrderIdOf = (body: Buffer): string | null => {
  try {
    const id = (JSON.parse(body.toString()) as { clientOrderId?: unknown }).clientOrderId;
    return typeof id === 'string' ? id : null;
  } catch { return null; }
};

export async function startFaultProxy(target: string, random: () => number = Math.random): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let mode: FaultMode = { kind: 'pass' };
  const injected: Record<string, number> = {};
  const streams = new Set<{ res: http.ServerResponse; silent: boolean }>();
  const count = (k: string) => { injected[k] = (injected[k] ?? 0) + 1; };
  const attempts = new Map<string, number>();
  const ledger = createSubmitLedger();
  let arrival = 0;

  const forward = (req: http.IncomingMessage, body: Buffer, onAnswer: (status: number, headers: http.IncomingHttpHeaders, res: http.IncomingMessage) => void, onError: (e: Error) => void) => {
    const r = http.request({ agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (res) => onAnswer(res.statusCode ?? 502, res.headers, res));
    r.on('error', onError);
    r.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isSubmit = req.method === 'POST' && req.url === '/v1/orders';
      const isStream = req.url?.startsWith('/v1/events') ?? false;
      const seq = ++arrival;
      const lookupOf = req.method === 'GET' ? LOOKUP.exec(req.url ?? '')?.[1] : undefined;
      const cid = isSubmit ? clientOrderIdOf(body) : lookupOf ? decodeURIComponent(lookupOf) : null;
      if (isSubmit && cid) attempts.set(cid, (attempts.get(cid) ?? 0) + 1);
      const fail = (status: number, code: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify({ code, message: `injected ${status}`, field: null }));
      };
      if (mode.kind === '429' && !isStream && random() < mode.ratio) { count('429'); return fail(429, 'RATE_LIMITED', { 'retry-after': '1' }); }
      if (mode.kind === '5xx-before' && isSubmit && random() < mode.ratio) { count('5xx-before'); return fail(500, 'INTERNAL'); }
      if (isStream && mode.kind === 'silent') {
        // Open, answered, and then nothing at all: the client has to notice by itself.
        count('silent-stream');
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const s = { res, silent: true };
        streams.add(s);
        res.on('close', () => streams.delete(s));
        return;
      }
      const after = mode.kind === '5xx-after' && isSubmit && random() < mode.ratio;
      // A submit passed on may be on the venue's books from now on; a look-up counts once the venue answered it.
      if (isSubmit && cid) ledger.record(cid, 'submit', seq);
      forward(req, body, (status, headers, up) => {
        if (lookupOf && cid && (status === 200 || status === 404)) ledger.record(cid, 'lookup', seq);
        if (after) {
          up.resume();
          count('5xx-after');
          return fail(502, 'BAD_GATEWAY');
        }
        res.writeHead(status, headers);
        if (!isStream) { up.pipe(res); return; }
        const s = { res, silent: false };
        streams.add(s);
        up.on('data', (c: Buffer) => { if (!s.silent) res.write(c); });
        up.on('end', () => res.end());
        res.on('close', () => { streams.delete(s); up.destroy(); });
      }, () => { if (!res.headersSent) fail(502, 'UPSTREAM_UNREACHABLE'); else res.destroy(); });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, injected,
    submits: () => ({ attempts: [...attempts.values()].reduce((n, c) => n + c, 0), idsRetried: [...attempts.values()].filter((c) => c > 1).length, forwarded: ledger.summary() }),
    set(next) {
      const wasSilent = mode.kind === 'silent';
      mode = next;
      if (next.kind === 'silent') for (const s of streams) { s.silent = true; count('silent-stream'); }
      // The end of a silence cuts the quiet streams; the client reconnects and replays from its last id.
      if (wasSilent && next.kind !== 'silent') for (const s of [...streams]) if (s.silent) s.res.destroy();
    },
    async stop() {
      for (const s of streams) s.res.destroy();
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// The shared connector suite against the paper venue. The paper server has outages, corrections and
// busts of its own; the faults it lacks (a timeout after the order is created, a 5xx, a 429, a silent
// or repeating event stream) come from a small HTTP proxy in front of it, which also counts submits.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPaperClient } from '../../connectors/paper/client.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';
import type { FakeVenueControls } from '../helpers/connectorSuiteTypes.ts';
import { testLog } from '../helpers/env.ts';

// A wide, still market: each resting order gets its own price level above the market maker's bid, so
// a taker sells into exactly the order a test means.
const SUITE_SYMBOL = { symbol: 'SUITE', startPrice: 100, volatility: 0, spreadBps: 1000, lotSize: 1, tickSize: 0.01, quoteSize: 1000 };

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => resolve(body));
});

function createFaultProxy(upstream: string) {
  const submits = new Map<string, number>();
  const lastFrame = new Map<string, string>();
  const streams = new Set<ServerResponse>();
  const held = new Set<ServerResponse>();
  let timeoutNext = false;
  let failNext: { status: number; created: boolean } | null = null;
  let rateLimitNext: number | null = null;
  let blockedUntil = 0, blockedSince = 0, limitedId: string | null = null;
  let violations = 0;
  let silent = false;

  const forward = async (req: IncomingMessage, body: string) => fetch(`${upstream}${req.url}`, {
    method: req.method, headers: body ? { 'content-type': 'application/json' } : {}, body: body || undefined,
  });
  const answer = async (res: ServerResponse, up: Response) => {
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(await up.text());
  };

  async function stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const up = await fetch(`${upstream}${req.url}`, { headers: { accept: 'text/event-stream' } });
    res.writeHead(up.status, { 'content-type': 'text/event-stream' });
    streams.add(res);
    res.on('close', () => streams.delete(res));
    const reader = up.body!.getReader();
    res.on('close', () => { void reader.cancel().catch(() => {}); });
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        const parsed = data ? JSON.parse(data.slice(6)) as { order?: { clientOrderId: string }; clientOrderId?: string } : null;
        const cid = parsed?.order?.clientOrderId ?? parsed?.clientOrderId;
        if (cid) lastFrame.set(cid, frame);
        if (!silent) res.write(frame);
      }
    }
    res.end();
  }

  const server = createServer((req, res) => {
    void (async () => {
      const arrived = Date.now();
      const body = await readBody(req);
      // Requests already on the wire when the 429 left (a 50 ms grace) are not the client ignoring it;
      // a resubmit of the refused order cannot be, so it counts from the first millisecond.
      const resubmit = req.method === 'POST' && req.url === '/v1/orders' && limitedId !== null && body.includes(`"${limitedId}"`);
      if (arrived < blockedUntil && (resubmit || arrived > blockedSince + 50)) violations += 1;
      if (req.url?.startsWith('/v1/events')) return stream(req, res);
      if (req.method === 'POST' && req.url === '/v1/orders') {
        const cid = (JSON.parse(body) as { clientOrderId: string }).clientOrderId;
        submits.set(cid, (submits.get(cid) ?? 0) + 1);
        if (rateLimitNext !== null) {
          blockedSince = Date.now();
          blockedUntil = blockedSince + rateLimitNext * 1000;
          limitedId = cid;
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(rateLimitNext) });
          rateLimitNext = null;
          return res.end(JSON.stringify({ code: 'RATE_LIMITED', message: 'slow down' }));
        }
        const fail = failNext;
        failNext = null;
        if (fail && !fail.created) { res.writeHead(fail.status); return res.end(JSON.stringify({ code: 'INTERNAL' })); }
        const up = await forward(req, body);
        if (fail) { res.writeHead(fail.status); return res.end(JSON.stringify({ code: 'INTERNAL' })); }
        if (timeoutNext) { timeoutNext = false; held.add(res); return; }
        return answer(res, up);
      }
      return answer(res, await forward(req, body));
    })().catch(() => { if (!res.headersSent) res.writeHead(502); res.end(); });
  });
  const heartbeat = setInterval(() => { if (!silent) for (const s of streams) s.write(': ping\n\n'); }, 300);

  return {
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      clearInterval(heartbeat);
      for (const s of [...streams, ...held]) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
    submits: (cid: string) => submits.get(cid) ?? 0,
    timeoutNext() { timeoutNext = true; },
    failNext(status: number, created: boolean) { failNext = { status, created }; },
    rateLimitNext(seconds: number) { rateLimitNext = seconds; },
    violations: () => violations,
    setSilent(on: boolean) { silent = on; },
    repeat(cid: string) { const f = lastFrame.get(cid); if (f) for (const s of streams) s.write(f); },
  };
}

runConnectorSuite('paper', async () => {
  const server = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0, symbols: [SUITE_SYMBOL] }), log: testLog() });
  const venueUrl = await server.start(0, '127.0.0.1');
  const proxy = createFaultProxy(venueUrl);
  const proxyUrl = await proxy.start();
  const client = createPaperClient({ baseUrl: proxyUrl, timeoutMs: 300, reconnectMs: 100, streamIdleMs: 1_000 });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${venueUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`paper admin ${method} ${path}: HTTP ${res.status}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  let level = 0;
  let takers = 0;

  const fake: FakeVenueControls = {
    symbol: SUITE_SYMBOL.symbol,
    quantity: 5,
    async restingBuyPrice() {
      const quote = server.venue.quote(SUITE_SYMBOL.symbol)!;
      level += 1;
      return Number((quote.bid + 0.01 * level).toFixed(2));
    },
    async timeoutNextSubmit() { proxy.timeoutNext(); },
    async failNextSubmit(status, created) { proxy.failNext(status, created); },
    async rateLimitNextSubmit(seconds) { proxy.rateLimitNext(seconds); },
    async rateLimitViolations() { return proxy.violations(); },
    clockSkewNextSubmit: null,
    async setOutage(on) { await admin('PUT', '/v1/admin/knobs', { outage: on }); },
    async setStreamSilent(on) { proxy.setSilent(on); },
    async ordersCreated(cid) { return server.venue.allOrders().filter((o) => o.clientOrderId === cid).length; },
    async submitsReceived(cid) { return proxy.submits(cid); },
    async fill(cid, quantity) {
      takers += 1;
      server.venue.submit({ clientOrderId: `suite-taker-${takers}`, symbol: SUITE_SYMBOL.symbol, side: 'SELL', quantity, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC' });
      const order = server.venue.lookup(cid);
      const last = order?.fills.at(-1);
      if (!last) throw new Error(`the taker did not fill ${cid}`);
      return { ref: last.tradeId, price: last.price };
    },
    async repeatLastEvent(cid) { proxy.repeat(cid); },
    async correctFill(_cid, ref, price) { await admin('POST', `/v1/admin/fills/${ref}/correct`, { price }); },
    async bustFill(_cid, ref) { await admin('POST', `/v1/admin/fills/${ref}/bust`); },
  };
  return {
    client, fake,
    async stop() { await client.disconnect(); await proxy.stop(); await server.stop(); },
  };
});

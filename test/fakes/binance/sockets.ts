// The fake's WebSocket side, from the documentation:
// - web-socket-api.md: requests {id, method, params}, responses {id, status, result | error};
//   `userDataStream.subscribe.signature` (apiKey, timestamp, signature, optional recvWindow; HMAC over
//   the params sorted by name) answers {subscriptionId}; user data events arrive as
//   {subscriptionId, event}; `userDataStream.unsubscribe` ends subscriptions with eventStreamTerminated
//   (user-data-stream.md); `serverShutdown` announces a disconnect; the server pings every 20 s.
// - web-socket-streams.md: market streams at /ws/<stream> (raw) and /stream?streams=a/b (combined,
//   wrapped {stream, data}); `<symbol>@bookTicker` pushes best bid/ask changes.
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { ERRORS } from './payloads.ts';

interface Session { ws: WebSocket; subs: Set<number>; nextSub: number }

export interface FakeSockets {
  /** Routes an upgrade; false when the path is not a WebSocket endpoint of the venue. */
  upgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): boolean;
  pushUserEvent(event: Record<string, unknown>): void;
  pushMarket(stream: string, data: unknown): void;
  terminateSubscriptions(): void;
  serverShutdown(): void;
  setSilent(on: boolean): void;
  dropAll(): void;
  stats(): { subscribeRequests: number; refusedSubscriptions: number; activeSubscriptions: number; marketConnections: number };
  close(): void;
}

export function createFakeSockets(o: { apiKey: string; secretKey: string; now(): number; pingMs: number }): FakeSockets {
  const api = new WebSocketServer({ noServer: true, autoPong: false });
  const market = new WebSocketServer({ noServer: true, autoPong: false });
  const sessions = new Set<Session>();
  const marketSubs = new Map<WebSocket, { streams: Set<string>; combined: boolean }>();
  let silent = false;
  const counts = { subscribeRequests: 0, refusedSubscriptions: 0 };

  const keepAlive = (ws: WebSocket) => {
    ws.on('ping', (data) => { if (!silent) ws.pong(data); });
    const t = setInterval(() => { if (!silent) ws.ping(); }, o.pingMs);
    ws.on('close', () => clearInterval(t));
  };

  function answer(ws: WebSocket, id: unknown, status: number, body: { result: unknown } | { error: { code: number; msg: string } }) {
    ws.send(JSON.stringify({ id, status, ...body }));
  }

  function subscribe(s: Session, id: unknown, params: Record<string, unknown>) {
    counts.subscribeRequests += 1;
    const refuse = (status: number, error: { code: number; msg: string }) => { counts.refusedSubscriptions += 1; answer(s.ws, id, status, { error }); };
    if (params.apiKey !== o.apiKey) return refuse(401, ERRORS.apiKey);
    const signed = Object.keys(params).filter((k) => k !== 'signature').sort().map((k) => `${k}=${String(params[k])}`).join('&');
    const expected = createHmac('sha256', o.secretKey).update(signed).digest('hex');
    // web-socket-api.md "Signature Case Sensitivity": HMAC signatures are not case-sensitive.
    if (typeof params.signature !== 'string' || params.signature.toLowerCase() !== expected) return refuse(400, ERRORS.signature);
    const ts = Number(params.timestamp);
    const window = params.recvWindow === undefined ? 5_000 : Number(params.recvWindow);
    if (!(window <= 60_000) || !(ts < o.now() + 1_000 && o.now() - ts <= window)) return refuse(400, ERRORS.recvWindow);
    const subscriptionId = s.nextSub++;
    s.subs.add(subscriptionId);
    answer(s.ws, id, 200, { result: { subscriptionId } });
  }

  function endSubscription(s: Session, subscriptionId: number) {
    s.subs.delete(subscriptionId);
    if (!silent) s.ws.send(JSON.stringify({ subscriptionId, event: { e: 'eventStreamTerminated', E: o.now() } }));
  }

  api.on('connection', (ws: WebSocket) => {
    const s: Session = { ws, subs: new Set(), nextSub: 0 };
    sessions.add(s);
    keepAlive(ws);
    ws.on('close', () => sessions.delete(s));
    ws.on('message', (data) => {
      let req: { id?: unknown; method?: unknown; params?: Record<string, unknown> };
      try { req = JSON.parse(String(data)); } catch { return answer(ws, null, 400, { error: { code: -1100, msg: 'Illegal characters found in a parameter.' } }); }
      switch (req.method) {
        case 'userDataStream.subscribe.signature': return subscribe(s, req.id, req.params ?? {});
        case 'userDataStream.unsubscribe': {
          const only = req.params?.subscriptionId;
          for (const sub of [...s.subs]) if (only === undefined || only === sub) endSubscription(s, sub);
          return answer(ws, req.id, 200, { result: {} });
        }
        case 'session.subscriptions': return answer(ws, req.id, 200, { result: [...s.subs].map((subscriptionId) => ({ subscriptionId })) });
        case 'ping': return answer(ws, req.id, 200, { result: {} });
        case 'time': return answer(ws, req.id, 200, { result: { serverTime: o.now() } });
        default: return answer(ws, req.id, 400, { error: ERRORS.unsupported });
      }
    });
  });

  market.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const combined = url.pathname === '/stream';
    const streams = combined ? (url.searchParams.get('streams') ?? '').split('/').filter(Boolean) : [url.pathname.slice('/ws/'.length)];
    marketSubs.set(ws, { streams: new Set(streams), combined });
    keepAlive(ws);
    ws.on('close', () => marketSubs.delete(ws));
  });

  return {
    upgrade(req, socket, head) {
      const path = (req.url ?? '').split('?')[0];
      const server = path === '/ws-api/v3' ? api : path === '/stream' || path.startsWith('/ws/') ? market : null;
      if (!server) return false;
      server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
      return true;
    },
    pushUserEvent(event) {
      if (silent) return;
      for (const s of sessions) for (const subscriptionId of s.subs) s.ws.send(JSON.stringify({ subscriptionId, event }));
    },
    pushMarket(stream, data) {
      if (silent) return;
      for (const [ws, m] of marketSubs) if (m.streams.has(stream)) ws.send(JSON.stringify(m.combined ? { stream, data } : data));
    },
    terminateSubscriptions() { for (const s of sessions) for (const sub of [...s.subs]) endSubscription(s, sub); },
    serverShutdown() {
      for (const s of sessions) s.ws.send(JSON.stringify({ event: { e: 'serverShutdown', E: o.now() } }));
      setTimeout(() => { for (const s of sessions) s.ws.close(); }, 100).unref();
    },
    setSilent(on) { silent = on; },
    dropAll() { for (const ws of [...api.clients, ...market.clients]) ws.terminate(); },
    stats: () => ({ ...counts, activeSubscriptions: [...sessions].reduce((n, s) => n + s.subs.size, 0), marketConnections: marketSubs.size }),
    close() { this.dropAll(); api.close(); market.close(); },
  };
}

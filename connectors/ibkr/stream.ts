// Push events: the gateway websocket (`sor` live orders, `str` trades) is the fast path, and a REST
// reconciliation every pollMs is the guarantee. The websocket only says *that* something changed; the
// state we emit is always re-read over REST, so a partial `sor` frame can never become a wrong state.
// A socket silent for streamIdleMs (no heartbeat either) is closed and reopened; the poll covers the gap.
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { wsUrlOf, type IbkrConfig } from './config.ts';
import type { IbkrOrders } from './orders.ts';
import { parseWsMessage } from './parse.ts';
import type { IbkrSession } from './session.ts';

const MAX_RECONNECT_MS = 10_000;

export interface IbkrStream {
  stop(): void;
  /** Epoch ms of the last frame (heartbeats included) on an open socket; null while none is open. */
  lastActivity(): number | null;
}

export function startIbkrStream(config: IbkrConfig, orders: IbkrOrders, session: IbkrSession, log: Logger | undefined): IbkrStream {
  let stopped = false;
  let socket: WebSocket | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let ticTimer: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let delay = config.reconnectMs;
  let lastFrameAt: number | null = null;
  const pending = new Set<string>();
  let flushing = false;

  // Several frames about one order in a burst become one REST read.
  function schedule(cid: string): void {
    pending.add(cid);
    if (flushing) return;
    flushing = true;
    setImmediate(() => {
      const batch = [...pending];
      pending.clear();
      flushing = false;
      for (const c of batch) orders.refresh(c).catch((err: unknown) => log?.warn({ venue: 'ibkr', clientOrderId: c, code: (err as { code?: string }).code }, 'ibkr order refresh failed'));
    });
  }

  function touch(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      log?.warn({ venue: 'ibkr', idleMs: config.streamIdleMs }, 'ibkr websocket silent; reopening');
      socket?.terminate();
    }, config.streamIdleMs);
    idleTimer.unref();
  }

  function onFrame(text: string): void {
    touch();
    lastFrameAt = Date.now();
    const msg = parseWsMessage(text);
    if (!msg) return;
    switch (msg.kind) {
      case 'orders':
        for (const u of msg.updates) {
          if (u.orderRef) orders.remember(u.orderRef, u.orderId);
          const cid = u.orderRef ?? orders.cidForOrder(u.orderId);
          if (cid) schedule(cid);
        }
        return;
      case 'trades':
        for (const cid of orders.ingestTrades(msg.trades)) schedule(cid);
        return;
      case 'auth':
        if (!msg.authenticated) session.markLost('websocket sts: not authenticated');
        return;
      case 'heartbeat':
        return;
      default: {
        const never: never = msg;
        throw new Error(`unhandled websocket message ${JSON.stringify(never)}`);
      }
    }
  }

  function open(): void {
    if (stopped) return;
    const headers: Record<string, string> = { 'user-agent': 'order-router' };
    if (config.sessionCookie) headers.cookie = `api=${config.sessionCookie.reveal()}`;
    const ws = new WebSocket(wsUrlOf(config), { headers, handshakeTimeout: config.timeoutMs });
    socket = ws;
    ws.on('open', () => {
      delay = config.reconnectMs;
      touch();
      ws.send('sor+{}');
      ws.send('str+{}');
      // The gateway drops a socket that never speaks; `tic` is its documented keep-alive.
      ticTimer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('tic'); }, Math.min(config.tickleMs, 55_000));
      ticTimer.unref();
    });
    ws.on('message', (data) => onFrame(data.toString()));
    ws.on('error', (err) => log?.warn({ venue: 'ibkr', err: { message: err.message } }, 'ibkr websocket error'));
    ws.on('close', () => {
      lastFrameAt = null;
      if (ticTimer) clearInterval(ticTimer);
      if (idleTimer) clearTimeout(idleTimer);
      ticTimer = idleTimer = null;
      if (stopped) return;
      reconnectTimer = setTimeout(open, delay);
      reconnectTimer.unref();
      delay = Math.min(delay * 2, MAX_RECONNECT_MS);
    });
  }

  function poll(): void {
    pollTimer = setTimeout(() => {
      const pass = session.isUp() ? orders.reconcile() : Promise.resolve();
      pass.catch((err: unknown) => log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr reconciliation failed'))
        .finally(() => { if (!stopped) poll(); });
    }, config.pollMs);
    pollTimer.unref();
  }

  open();
  poll();
  return {
    lastActivity: () => (socket?.readyState === WebSocket.OPEN ? lastFrameAt : null),
    stop() {
      stopped = true;
      for (const t of [idleTimer, reconnectTimer, pollTimer]) if (t) clearTimeout(t);
      if (ticTimer) clearInterval(ticTimer);
      socket?.terminate();
      socket = null;
    },
  };
}

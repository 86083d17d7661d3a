// Push events: the gateway websocket (`sor` live orders, `str` trades) is the fast path, and REST
// reconciliation is the guarantee. An open socket is not yet a stream: the gateway answers "waiting
// for session" until it gets {"session": …} from POST /tickle, and serves nothing before that (IBKR's
// "Web API – How to connect to WebSocket"). Only once it confirms (`system` success or `sts`) do we
// subscribe and count its frames as activity. The websocket only says *that* something changed; the
// state we emit is re-read over REST, so a partial `sor` frame can never become a wrong state.
// REST polls every pollMs while the socket is down, unauthorised or silent, every reconcileMs otherwise.
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { wsUrlOf, type IbkrConfig } from './config.ts';
import type { IbkrOrders } from './orders.ts';
import { parseWsMessage } from './parse.ts';
import type { IbkrSession } from './session.ts';

const MAX_RECONNECT_MS = 10_000;

export interface IbkrStream {
  stop(): void;
  /** Epoch ms of the last frame (heartbeats included) on an authorised socket; null while none is. */
  lastActivity(): number | null;
}

export function startIbkrStream(config: IbkrConfig, orders: IbkrOrders, session: IbkrSession, log: Logger | undefined): IbkrStream {
  let stopped = false;
  let socket: WebSocket | null = null;
  let authorised = false;
  let idleTimer: NodeJS.Timeout | null = null;
  let ticTimer: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let delay = config.reconnectMs;
  let lastFrameAt: number | null = null;
  let lastPollAt = 0;
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

  function touch(ws: WebSocket): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      log?.warn({ venue: 'ibkr', idleMs: config.streamIdleMs, authorised }, authorised ? 'ibkr websocket silent; reopening' : 'ibkr websocket never got its session; reopening');
      ws.terminate();
    }, config.streamIdleMs);
    idleTimer.unref();
  }

  function authorise(ws: WebSocket): void {
    if (authorised) return;
    authorised = true;
    delay = config.reconnectMs;
    ws.send('sor+{}');
    ws.send('str+{}');
    // `tic` keeps the socket's session alive (at least once a minute, per the websocket reference).
    ticTimer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('tic'); }, Math.min(config.tickleMs, 55_000));
    ticTimer.unref();
    log?.info({ venue: 'ibkr' }, 'ibkr websocket has its session; sor/str subscribed');
  }

  async function sendSession(ws: WebSocket): Promise<void> {
    try {
      const id = await session.sessionId();
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ session: id }));
    } catch (err) {
      log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr websocket: no session from /tickle; reopening');
      ws.terminate();
    }
  }

  function onFrame(ws: WebSocket, text: string): void {
    const msg = parseWsMessage(text);
    if (msg?.kind === 'connected' || (msg?.kind === 'auth' && msg.authenticated)) authorise(ws);
    if (authorised) {
      touch(ws);
      lastFrameAt = Date.now();
    }
    if (!msg) return;
    switch (msg.kind) {
      case 'waitingForSession':
        void sendSession(ws);
        return;
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
      case 'account':
        if (msg.selected) session.accountSelected(msg.selected);
        return;
      case 'connected':
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
    authorised = false;
    // The session goes out at once (a gateway that keeps quiet instead of saying "waiting for session"
    // gets it too) and again whenever it asks; a socket never let in is reopened like a silent one.
    ws.on('open', () => {
      touch(ws);
      void sendSession(ws);
    });
    ws.on('message', (data) => onFrame(ws, data.toString()));
    ws.on('error', (err) => log?.warn({ venue: 'ibkr', err: { message: err.message } }, 'ibkr websocket error'));
    ws.on('close', () => {
      if (socket === ws) { socket = null; authorised = false; lastFrameAt = null; }
      if (ticTimer) clearInterval(ticTimer);
      if (idleTimer) clearTimeout(idleTimer);
      ticTimer = idleTimer = null;
      if (stopped) return;
      reconnectTimer = setTimeout(open, delay);
      reconnectTimer.unref();
      delay = Math.min(delay * 2, MAX_RECONNECT_MS);
    });
  }

  const streaming = (): boolean => authorised && lastFrameAt !== null && Date.now() - lastFrameAt < config.streamIdleMs;

  function poll(): void {
    pollTimer = setTimeout(() => {
      const due = Date.now() - lastPollAt >= (streaming() ? config.reconcileMs : config.pollMs);
      const pass = due && session.isUp() ? orders.reconcile() : Promise.resolve();
      if (due) lastPollAt = Date.now();
      pass.catch((err: unknown) => log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr reconciliation failed'))
        .finally(() => { if (!stopped) poll(); });
    }, Math.min(config.pollMs, config.reconcileMs));
    pollTimer.unref();
  }

  open();
  poll();
  return {
    lastActivity: () => (socket?.readyState === WebSocket.OPEN && authorised ? lastFrameAt : null),
    stop() {
      stopped = true;
      for (const t of [idleTimer, reconnectTimer, pollTimer]) if (t) clearTimeout(t);
      if (ticTimer) clearInterval(ticTimer);
      socket?.terminate();
      socket = null;
    },
  };
}

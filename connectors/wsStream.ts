// A venue push stream over WebSocket (ws package): reconnects with backoff, pings, and reopens a
// connection that has gone quiet. It knows nothing of the venue's messages; a client hands it the
// handshake and the parser. Events missed while it was down are the runtime's reconciliation's job.
import type { Logger } from 'pino';
import WebSocket from 'ws';

export interface WsStreamOptions {
  venue: string;
  /** Resolved before every connection: Binance needs a fresh listen key, Alpaca a fixed URL. */
  url(): Promise<string>;
  /** After the socket opens: authenticate, subscribe. */
  onOpen?(send: (msg: unknown) => void): void;
  onMessage(text: string, send: (msg: unknown) => void, socket: { close(reason: string): void }): void;
  pingMs: number;
  reconnectMs: number;
  maxReconnectMs: number;
  log?: Logger;
}

export interface WsStream {
  stop(): void;
  /** Epoch ms of the last frame or pong on the current connection; null while none is open. */
  lastActivity(): number | null;
}

export function openWsStream(o: WsStreamOptions): WsStream {
  let stopped = false;
  let socket: WebSocket | null = null;
  let lastActivity: number | null = null;
  let delay = o.reconnectMs;
  let retry: NodeJS.Timeout | null = null;
  let pinger: NodeJS.Timeout | null = null;

  const schedule = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => { retry = null; void connect(); }, delay);
    delay = Math.min(delay * 2, o.maxReconnectMs);
  };

  async function connect(): Promise<void> {
    let url: string;
    try {
      url = await o.url();
    } catch (err) {
      o.log?.warn({ venue: o.venue, err: err instanceof Error ? err.message : String(err) }, 'push stream: no url; retrying');
      return schedule();
    }
    if (stopped) return;
    const ws = new WebSocket(url, { handshakeTimeout: Math.max(1_000, o.pingMs) });
    socket = ws;
    lastActivity = null; // only frames count: a connection that opens and then says nothing is not alive
    let openedAt = Date.now();
    const send = (msg: unknown) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); };
    const touch = () => { lastActivity = Date.now(); };
    ws.on('open', () => {
      openedAt = Date.now();
      delay = o.reconnectMs;
      o.onOpen?.(send);
      pinger = setInterval(() => {
        // Quiet for two ping periods, pongs included: the connection is dead even if TCP says otherwise.
        if (Date.now() - (lastActivity ?? openedAt) > 2 * o.pingMs) { ws.terminate(); return; }
        try { ws.ping(); } catch { /* closing */ }
      }, o.pingMs);
    });
    ws.on('pong', touch);
    ws.on('ping', touch);
    ws.on('message', (data, isBinary) => {
      touch();
      // Alpaca's paper stream sends binary frames with JSON inside; treat both alike.
      const text = isBinary || Buffer.isBuffer(data) ? Buffer.from(data as Buffer).toString('utf8') : String(data);
      try {
        o.onMessage(text, send, { close: (reason) => { o.log?.warn({ venue: o.venue, reason }, 'push stream closed by client'); ws.close(); } });
      } catch (err) {
        o.log?.warn({ venue: o.venue, err: err instanceof Error ? err.message : String(err) }, 'push stream message skipped');
      }
    });
    ws.on('error', (err) => { o.log?.debug({ venue: o.venue, err: err.message }, 'push stream error'); });
    ws.on('close', () => {
      if (pinger) clearInterval(pinger);
      pinger = null;
      if (socket === ws) { socket = null; lastActivity = null; }
      if (!stopped) { o.log?.warn({ venue: o.venue, retryInMs: delay }, 'push stream dropped; reconnecting'); schedule(); }
    });
  }

  void connect();
  return {
    stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      if (pinger) clearInterval(pinger);
      socket?.terminate();
      socket = null;
    },
    lastActivity: () => lastActivity,
  };
}

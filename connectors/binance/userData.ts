// The user data stream over Binance's WebSocket API. The REST listen key is retired (CHANGELOG
// 2026-01-21: POST/PUT/DELETE /api/v3/userDataStream gone from 2026-02-20); instead one connection to
// the WebSocket API subscribes with `userDataStream.subscribe.signature` (web-socket-api.md, works with
// HMAC keys, no session logon), and events come wrapped as {subscriptionId, event}. The stream only
// counts as alive while a subscription is active, so a socket that answers pings but carries no
// subscription makes the runtime poll instead of trusting silence.
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { openWsStream, type WsStream } from '../wsStream.ts';
import type { BinanceConfig } from './config.ts';
import { TIMESTAMP_OUTSIDE_RECV_WINDOW } from './errors.ts';
import { wrappedEventSchema } from './parse.ts';

export interface UserDataDeps {
  config: BinanceConfig;
  log?: Logger;
  /** Our clock corrected by the learnt server offset: the subscription request is signed and timed. */
  serverNow(): number;
  /** A -1021 on subscribing: learn the offset again before the next attempt. */
  resyncClock(): Promise<void>;
  /** Each event of our subscription, unwrapped (executionReport, outboundAccountPosition, ...). */
  onEvent(event: { e: string } & Record<string, unknown>): void;
}

export interface UserDataStream {
  stop(): void;
  /** Last frame on a connection with an active subscription; null otherwise. */
  lastActivity(): number | null;
  subscriptionId(): number | null;
}

/** web-socket-api.md "SIGNED request example (HMAC)": every param but signature, sorted by name, as k=v&k=v. */
export function signWsParams(params: Record<string, string | number>, secret: string): string {
  const payload = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export function openUserDataStream(d: UserDataDeps): UserDataStream {
  const { config, log } = d;
  let subscription: number | null = null;
  let pendingId: string | null = null;
  let stream: WsStream | null = null;

  const subscribeRequest = () => {
    const params: Record<string, string | number> = { apiKey: config.apiKey.reveal(), recvWindow: config.recvWindowMs, timestamp: Math.round(d.serverNow()) };
    pendingId = randomUUID();
    return { id: pendingId, method: 'userDataStream.subscribe.signature', params: { ...params, signature: signWsParams(params, config.secretKey.reveal()) } };
  };

  function onMessage(text: string, send: (m: unknown) => void, socket: { close(reason: string): void }): void {
    const msg = JSON.parse(text) as Record<string, unknown>;
    if ('id' in msg && 'status' in msg) {
      if (msg.id !== pendingId) return;
      pendingId = null;
      const result = msg.result as { subscriptionId?: unknown } | undefined;
      if (msg.status === 200 && typeof result?.subscriptionId === 'number') {
        subscription = result.subscriptionId;
        log?.info({ venue: config.venue, subscriptionId: subscription }, 'user data stream subscribed');
        return;
      }
      const error = msg.error as { code?: unknown; msg?: unknown } | undefined;
      log?.warn({ venue: config.venue, status: msg.status, code: error?.code, msg: error?.msg }, 'user data subscription refused; reconnecting');
      if (error?.code === TIMESTAMP_OUTSIDE_RECV_WINDOW) void d.resyncClock().catch(() => {});
      socket.close('subscription refused');
      return;
    }
    const parsed = wrappedEventSchema.safeParse(msg);
    if (!parsed.success) return;
    const { subscriptionId, event } = parsed.data;
    // web-socket-api.md "Server Shutdown": reconnect before the server closes on us.
    if (event.e === 'serverShutdown') { subscription = null; socket.close('server shutting down'); return; }
    if (subscription === null || (subscriptionId !== undefined && subscriptionId !== subscription)) return;
    // user-data-stream.md "Event Stream Terminated": this subscription is over; start another one.
    if (event.e === 'eventStreamTerminated') { subscription = null; send(subscribeRequest()); return; }
    d.onEvent(event);
  }

  stream = openWsStream({
    venue: config.venue, url: async () => config.wsApiUrl,
    pingMs: config.pingMs, reconnectMs: config.reconnectMs, maxReconnectMs: config.maxReconnectMs, log,
    onOpen(send) { subscription = null; send(subscribeRequest()); },
    onMessage,
  });

  return {
    stop() { stream?.stop(); stream = null; subscription = null; },
    lastActivity: () => (subscription === null ? null : stream?.lastActivity() ?? null),
    subscriptionId: () => subscription,
  };
}

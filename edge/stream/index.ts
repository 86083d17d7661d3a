// The strategy API of the edge: WebSocket GET /v1/stream (a session per connection, session.ts) and the
// signed REST routes (routes.ts). Settings come from the environment (one zod schema, frozen); the edge
// app calls `register` with its strategies, so both parts authenticate exactly as POST /signals does.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Codec } from '../../schemas/codec.ts';
import { auditTrail } from '../../streams/audit/trail.ts';
import { parseEnv } from '../../streams/runtime/env.ts';
import { faultOn } from '../../streams/runtime/faults.ts';
import type { Topics } from '../../schemas/topics.ts';
import { CLOSE, checkHello, closeReason, MAX_HELLO_BYTES, type AuthContext } from './protocol.ts';
import { createPositionLookup } from './queries.ts';
import { strategyRoutes } from './routes.ts';
import { startSession, type Session } from './session.ts';

export const streamEnvSchema = z.object({
  /** Bytes queued on one stream's socket above which it stops reading Kafka until the client drains it. */
  STREAM_MAX_BUFFERED_BYTES: z.coerce.number().int().min(16 * 1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** A stream whose socket stays above that limit this long is closed with 4008 SLOW_CLIENT. */
  STREAM_SLOW_CLIENT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Open streams per strategy; one more is refused with 4029 TOO_MANY_STREAMS. */
  STREAM_MAX_PER_STRATEGY: z.coerce.number().int().min(1).max(100).default(4),
  /** Open streams in the process (each is a Kafka consumer). */
  STREAM_MAX_TOTAL: z.coerce.number().int().min(1).max(10_000).default(64),
  /** How long an execution waits for the projection to book its position before it is sent with `position: null`. */
  STREAM_POSITION_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
  /** The signed hello must arrive within this long of the upgrade. */
  STREAM_HELLO_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
});
export type StreamEnv = Readonly<z.infer<typeof streamEnvSchema>>;

export interface StrategyApiOptions {
  kafka: Kafka; codec: Codec; pool: pg.Pool; topics: Topics; log: Logger; env: NodeJS.ProcessEnv;
  /** The projection's consumer name in consumer_offsets (`<prefix>order-router-projection`). */
  projectionGroup: string;
  /** The edge's metrics: `strategy_streams` (open) and `strategy_stream_closes_total{reason}`. */
  registry?: Registry;
  /** Test-only: see ORDER_ROUTER_FAULT=stream-resume-gap. Defaults to the process's fault switch. */
  resumeGap?: boolean;
}

export interface StrategyApi {
  /** Called by the edge app with its strategies and clock. */
  register(app: FastifyInstance, auth: AuthContext & { clock: () => number }): void;
  /** Open streams and the largest socket buffer each has had (for tests and metrics). */
  sessions(): { strategy: string; maxBuffered: number }[];
  stop(): Promise<void>;
}

export function createStrategyApi(o: StrategyApiOptions): StrategyApi {
  const cfg = parseEnv(streamEnvSchema, o.env);
  const log = o.log.child({ component: 'strategy-api' });
  const positions = createPositionLookup({ pool: o.pool, projectionGroup: o.projectionGroup, executionsTopic: o.topics.executions, waitMs: cfg.STREAM_POSITION_WAIT_MS });
  const open = new Set<Session>();
  // One strategy API per registry (the edge's); a second one keeps its figures to itself.
  const registers = o.registry && !o.registry.getSingleMetric('strategy_streams') ? [o.registry] : [];
  new Gauge({ name: 'strategy_streams', help: 'Open strategy streams (GET /v1/stream)', registers, collect() { this.set(open.size); } });
  const closes = new Counter({ name: 'strategy_stream_closes_total', help: 'Strategy streams closed or refused, by reason', labelNames: ['reason'], registers });
  /** Streams per strategy, starting or open. */
  const slots = new Map<string, number>();
  const pending = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_HELLO_BYTES });
  let stopping = false;

  const refuse = (ws: WebSocket, name: keyof typeof CLOSE, field?: string) => {
    closes.inc({ reason: name });
    ws.close(CLOSE[name], closeReason(name, field));
    setTimeout(() => ws.terminate(), 2_000).unref();
  };

  function accept(ws: WebSocket, auth: AuthContext & { clock: () => number }): void {
    // A bad frame (too large, not masked...) makes ws close the socket itself; unheard, the error would end the process.
    ws.on('error', (e) => log.info({ err: { message: e.message } }, 'stream socket error'));
    pending.add(ws);
    const timer = setTimeout(() => { pending.delete(ws); refuse(ws, 'UNAUTHORIZED'); }, cfg.STREAM_HELLO_TIMEOUT_MS);
    ws.once('close', () => { clearTimeout(timer); pending.delete(ws); });
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      pending.delete(ws);
      const text = isBinary ? '' : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const check = checkHello(text, auth.clock(), auth);
      if (!check.ok) {
        log.info({ close: check.close, reason: check.reason }, 'stream refused');
        return refuse(ws, check.close, check.close === 'BAD_REQUEST' ? check.field : undefined);
      }
      if (stopping) return refuse(ws, 'GOING_AWAY');
      // Counted from here, not from when the session is up: concurrent hellos cannot pass the limit together.
      const id = check.strategy.id;
      if ((slots.get(id) ?? 0) >= cfg.STREAM_MAX_PER_STRATEGY || [...slots.values()].reduce((a, b) => a + b, 0) >= cfg.STREAM_MAX_TOTAL) {
        return refuse(ws, 'TOO_MANY_STREAMS');
      }
      slots.set(id, (slots.get(id) ?? 0) + 1);
      const release = () => { const n = (slots.get(id) ?? 1) - 1; if (n > 0) slots.set(id, n); else slots.delete(id); };
      // Later frames from the client mean nothing; they are read (so they cannot pile up) and dropped.
      ws.on('message', () => {});
      startSession(ws, check.strategy, check.hello, {
        kafka: o.kafka, codec: o.codec, log, positions,
        topics: { riskDecisions: o.topics.riskDecisions, orders: o.topics.orders, executions: o.topics.executions, quotes: o.topics.quotes },
        limits: { maxBufferedBytes: cfg.STREAM_MAX_BUFFERED_BYTES, slowClientMs: cfg.STREAM_SLOW_CLIENT_MS, maxFetchBytes: 256 * 1024 },
        skipOnResume: o.resumeGap ?? faultOn('stream-resume-gap'),
        onClose: (name) => closes.inc({ reason: name }),
      }).then((s) => {
        open.add(s);
        void s.done.then(() => { open.delete(s); release(); });
      }, (e: unknown) => {
        release();
        log.warn({ err: e }, 'stream could not start');
        refuse(ws, 'INTERNAL');
      });
    });
  }

  // A dead peer (no pong between two pings) is dropped, so its session ends.
  const alive = new WeakMap<WebSocket, boolean>();
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) { ws.terminate(); continue; }
      alive.set(ws, false);
      ws.ping();
    }
  }, 30_000);
  pinger.unref();

  async function stop(): Promise<void> {
    if (stopping) return;
    stopping = true;
    clearInterval(pinger);
    for (const ws of pending) refuse(ws, 'GOING_AWAY');
    await Promise.all([...open].map((s) => s.close('GOING_AWAY')));
    wss.close();
  }

  return {
    register(app, auth) {
      app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // Only the path: the query string is ignored, and nothing secret may travel in a URL.
        if ((req.url ?? '').split('?')[0] !== '/v1/stream') return;
        if (stopping) { socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n'); return; }
        wss.handleUpgrade(req, socket, head, (ws) => {
          alive.set(ws, true);
          ws.on('pong', () => alive.set(ws, true));
          accept(ws, auth);
        });
      });
      app.register(strategyRoutes({
        pool: o.pool, clock: auth.clock,
        trail: (id) => auditTrail({ kafka: o.kafka, codec: o.codec, topics: o.topics, pool: o.pool }, id),
      }, auth));
      // An open stream would keep app.close() waiting for ever.
      app.addHook('preClose', stop);
    },
    sessions: () => [...open].map((s) => ({ strategy: s.strategy, maxBuffered: s.maxBuffered() })),
    stop,
  };
}

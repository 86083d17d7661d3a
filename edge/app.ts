// The HTTP front door: authenticate, validate, hand one Signal to `accept`, answer. Kafka, Postgres and
// the clocks are injected so the app is tested with app.inject and a fake `accept`.
import { randomBytes } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import Fastify, { LogController } from 'fastify';
import type { FastifyHttpsOptions, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, HookHandlerDoneFunction } from 'fastify';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Signal } from '../schemas/types.ts';
import { createIpAllowlist, SIGNATURE_HEADER, secretMatches, verifySignature } from './auth.ts';
import type { EdgeConfig, StrategyConfig } from './config.ts';
import { EdgeError, edgeErrorHandler } from './errors.ts';
import { parseJsonBody } from './jsonBody.ts';
import { signedSignal, tradingViewSignal } from './signal.ts';
import type { SignalContext } from './signalBuild.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes as received: signatures cover these, not a re-serialisation. */
    edgeRawBody: Buffer | null;
    /** Set by the auth hooks; the handlers run only when it is. */
    edgeStrategy: StrategyConfig | null;
    edgeReceivedAt: number;
    edgeSignalId: string | null;
  }
}

export interface EdgeDeps {
  config: Readonly<EdgeConfig>;
  log: Logger;
  /** Wall clock, epoch ms. */
  clock: () => number;
  /** Hybrid logical clock: ms * 1000 + counter. */
  hlc: () => number;
  /**
   * Dedupe + produce with acks=all. Throws an error with code 'UNAVAILABLE' when Kafka cannot acknowledge.
   * `deadline` (epoch ms): a signal still queued past it is refused, not written.
   */
  accept: (signal: Signal, deadline?: number) => Promise<{ duplicate: boolean }>;
  ready: () => boolean;
  registry?: Registry;
  /** More route plugins (the ops API), registered after the edge's own hooks and error handler. */
  extraRoutes?: (app: FastifyInstance) => void;
  /** The strategy API (edge/stream): GET /v1/stream and the signed /v1 REST routes, authenticated with the strategies' secrets. */
  strategyApi?: { register(app: FastifyInstance, auth: StrategyApiAuth): void };
}

export interface StrategyApiAuth {
  strategies: ReadonlyMap<string, StrategyConfig>;
  decoy: readonly string[];
  maxClockSkewSec: number;
  clock: () => number;
}

/** Log paths that may carry a secret. Bodies and the signature header are never logged at all. */
export const EDGE_LOG_REDACT = [
  'secret', 'secrets', '*.secret', '*.secrets', 'strategies[*].secrets', '*.strategies[*].secrets',
  'body', '*.body', 'rawBody', '*.rawBody', 'tls.key', '*.tls.key',
  'headers["x-signature"]', '*.headers["x-signature"]', 'headers.authorization', '*.headers.authorization',
];

const redact = { paths: EDGE_LOG_REDACT, censor: '[redacted]' };

/** A pino logger with the edge's redaction, for processes that have no logger of their own. */
export function createEdgeLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino({ level: opts.level ?? 'info', redact }, opts.destination);
}

function edgeMetrics(registry: Registry) {
  const requests =
    (registry.getSingleMetric('edge_requests_total') as Counter<'route' | 'status'> | undefined) ??
    new Counter({ name: 'edge_requests_total', help: 'HTTP requests answered by the edge', labelNames: ['route', 'status'], registers: [registry] });
  const acceptSeconds =
    (registry.getSingleMetric('edge_accept_seconds') as Histogram<'outcome'> | undefined) ??
    new Histogram({
      name: 'edge_accept_seconds',
      help: 'Time for accept (dedupe + Kafka acks) per signal',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  return { requests, acceptSeconds };
}

const answer = {
  type: 'object',
  required: ['signalId', 'duplicate'],
  properties: { signalId: { type: 'string' }, duplicate: { type: 'boolean' } },
  additionalProperties: false,
} as const;
const errorAnswer = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code'],
      properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
      additionalProperties: false,
    },
  },
} as const;
const status = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } as const;
// Field rules live in signal.ts (zod) and run after authentication, so an unauthenticated caller
// learns nothing about the schema; here the body is only required to be an object.
const signalRoute = { body: { type: 'object' }, response: { 200: answer, 202: answer, '4xx': errorAnswer, '5xx': errorAnswer } } as const;

const one = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(',') : h);

export function createEdgeApp(deps: EdgeDeps): FastifyInstance {
  const { config } = deps;
  const registry = deps.registry ?? new Registry();
  const metrics = edgeMetrics(registry);
  const strategies = new Map(config.strategies.map((s) => [s.id, s]));
  // An unknown strategy still costs one compare, so timing does not reveal which strategy ids exist.
  const decoy = [randomBytes(32).toString('hex')];
  const ipAllowed = config.allowedIps ? createIpAllowlist(config.allowedIps) : null;

  const options: FastifyServerOptions = {
    loggerInstance: deps.log.child({ component: 'edge' }, { redact }),
    // One line per request from onResponse below, with the fields we choose (no headers, no query).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    requestTimeout: 10_000,
    return503OnClosing: true,
  };
  const tls = config.tls;
  const app = (
    tls
      ? Fastify({
          ...(options as FastifyHttpsOptions<HttpsServer>),
          https: { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.requireClientCert, rejectUnauthorized: tls.requireClientCert },
        })
      : Fastify(options)
  ) as unknown as FastifyInstance;

  app.decorateRequest('edgeRawBody', null);
  app.decorateRequest('edgeStrategy', null);
  app.decorateRequest('edgeReceivedAt', 0);
  app.decorateRequest('edgeSignalId', null);
  app.setErrorHandler(edgeErrorHandler);
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND' } }));

  // Only JSON and text/plain (TradingView's form when it does not detect JSON); anything else is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: config.bodyLimit }, (req, body, done) => {
    req.edgeRawBody = body as Buffer;
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', (req, _reply, done) => {
    req.edgeReceivedAt = deps.clock();
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    const line = { method: req.method, route, status: reply.statusCode, ms: reply.elapsedTime, strategy: req.edgeStrategy?.id, signalId: req.edgeSignalId ?? undefined };
    if (route.startsWith('/webhooks') || route === '/signals') req.log.info(line, 'request');
    else req.log.debug(line, 'request');
    done();
  });

  function acceptWithin(signal: Signal): Promise<{ duplicate: boolean }> {
    const end = metrics.acceptSeconds.startTimer();
    return new Promise((resolve, reject) => {
      // TradingView gives up after ~3 s: better a 503 we chose than a timeout it guesses at.
      const timer = setTimeout(() => reject(new EdgeError('UNAVAILABLE', 'accept timed out', undefined, 'ACCEPT_TIMEOUT')), config.acceptTimeoutMs);
      let pending: Promise<{ duplicate: boolean }>;
      try {
        pending = deps.accept(signal, Date.now() + config.acceptTimeoutMs);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (r) => {
          clearTimeout(timer);
          end({ outcome: r.duplicate ? 'duplicate' : 'accepted' });
          resolve(r);
        },
        (err: unknown) => {
          clearTimeout(timer);
          end({ outcome: (err as { code?: unknown })?.code === 'UNAVAILABLE' ? 'unavailable' : 'error' });
          reject(err);
        },
      );
    });
  }

  const handle = (toSignal: (body: unknown, ctx: SignalContext) => Signal) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const strategy = req.edgeStrategy;
      if (strategy === null) throw new EdgeError('UNAUTHORIZED', 'unauthorized'); // the auth hook guarantees it; belt and braces
      const signal = toSignal(req.body, {
        strategy,
        idempotencyKey: one(req.headers['idempotency-key']),
        receivedAt: req.edgeReceivedAt,
        hlc: deps.hlc(),
      });
      req.edgeSignalId = signal.signalId;
      const { duplicate } = await acceptWithin(signal);
      return reply.code(duplicate ? 200 : 202).send({ signalId: signal.signalId, duplicate });
    };

  const strategyOf = (body: unknown): StrategyConfig | undefined => {
    const id = (body as Record<string, unknown>).strategy;
    return typeof id === 'string' ? strategies.get(id) : undefined;
  };

  app.register(async (scope) => {
    if (ipAllowed) {
      scope.addHook('onRequest', (req, _reply, done: HookHandlerDoneFunction) => {
        done(ipAllowed(req.ip) ? undefined : new EdgeError('FORBIDDEN', 'source address not allowed'));
      });
    }
    scope.addHook('preHandler', (req, _reply, done: HookHandlerDoneFunction) => {
      const strategy = strategyOf(req.body);
      const secret = (req.body as Record<string, unknown>).secret;
      const ok = secretMatches(typeof secret === 'string' ? secret : '', strategy?.secrets ?? decoy);
      if (!ok || strategy === undefined) return done(new EdgeError('UNAUTHORIZED', 'invalid secret', undefined, strategy ? 'SECRET_MISMATCH' : 'UNKNOWN_STRATEGY'));
      req.edgeStrategy = strategy;
      done();
    });
    scope.post('/webhooks/tradingview', { schema: signalRoute }, handle(tradingViewSignal));
  });

  app.register(async (scope) => {
    scope.addHook('preHandler', (req, _reply, done: HookHandlerDoneFunction) => {
      const strategy = strategyOf(req.body);
      const check = verifySignature({
        header: one(req.headers[SIGNATURE_HEADER]),
        rawBody: req.edgeRawBody ?? '',
        secrets: strategy?.secrets ?? decoy,
        nowMs: req.edgeReceivedAt,
        maxSkewSec: config.maxClockSkewSec,
      });
      if (!check.ok || strategy === undefined) {
        return done(new EdgeError('UNAUTHORIZED', 'invalid signature', undefined, check.ok ? 'UNKNOWN_STRATEGY' : check.reason));
      }
      req.edgeStrategy = strategy;
      done();
    });
    scope.post('/signals', { schema: signalRoute }, handle(signedSignal));
  });

  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: status, 503: status } } }, async (_req, reply) =>
    deps.ready() ? reply.send({ status: 'ready' }) : reply.code(503).send({ status: 'unavailable' }),
  );
  app.get('/metrics', async (_req, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));
  deps.extraRoutes?.(app);
  deps.strategyApi?.register(app, { strategies, decoy, maxClockSkewSec: config.maxClockSkewSec, clock: deps.clock });

  return app;
}

// REST for a strategy's own account, signed as POST /signals is (see protocol.ts, checkRequest):
// GET /v1/positions, GET /v1/orders?status=open|closed|all, GET /v1/orders/:id (with its audit trail).
// Everything is scoped by the authenticated strategy; another strategy's order is a 404, like a missing one.
import type { FastifyInstance, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type pg from 'pg';
import type { Trail } from '../../streams/audit/timeline.ts';
import { SIGNATURE_HEADER } from '../auth.ts';
import type { StrategyConfig } from '../config.ts';
import { EdgeError } from '../errors.ts';
import { checkRequest, type AuthContext } from './protocol.ts';
import { accountPositions, strategyOrder, strategyOrders, type OrderStatusFilter } from './queries.ts';

export interface StrategyRouteDeps {
  pool: pg.Pool;
  /** The order's causal chain as `order-router audit trail` builds it. */
  trail: (orderId: string) => Promise<Trail>;
  clock: () => number;
}

const one = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(',') : h);

const errorAnswer = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } },
} as const;
const errors = { '4xx': errorAnswer, '5xx': errorAnswer } as const;
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const nullable = (t: string) => ({ type: [t, 'null'] }) as const;
const position = {
  type: 'object', additionalProperties: false,
  properties: { account: str, symbol: str, venue: str, quantity: num, avgPrice: num, realizedPnl: num, fees: num, fillCount: num, updatedAt: str },
} as const;
const order = {
  type: 'object', additionalProperties: false,
  properties: {
    orderId: str, signalId: str, clientOrderId: str, venueOrderId: nullable('string'), account: str, strategy: str, symbol: str, venue: str, side: str,
    orderedQty: nullable('number'), filledQty: num, avgFillPrice: nullable('number'), fees: num, fills: num, status: str, reason: nullable('string'),
    firstAckAt: nullable('string'), lastFillAt: nullable('string'),
  },
} as const;

declare module 'fastify' {
  interface FastifyRequest { strategyApiCaller: StrategyConfig | null }
}

/** A trail reads the topics from their start: this many at once per edge, more are answered 503 (retry). */
export const MAX_TRAIL_READS = 2;

export function strategyRoutes(deps: StrategyRouteDeps, auth: AuthContext) {
  let trailReads = 0;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.decorateRequest('strategyApiCaller', null);
    app.addHook('onRequest', (req: FastifyRequest, _reply, done: HookHandlerDoneFunction) => {
      const check = checkRequest(
        { strategy: one(req.headers['x-strategy']), signature: one(req.headers[SIGNATURE_HEADER]), method: req.method, url: req.url },
        deps.clock(), auth,
      );
      if (!check.ok) return done(new EdgeError('UNAUTHORIZED', 'invalid signature', undefined, check.reason));
      req.strategyApiCaller = check.strategy;
      req.edgeStrategy = check.strategy;
      done();
    });
    const caller = (req: FastifyRequest): StrategyConfig => {
      if (req.strategyApiCaller === null) throw new EdgeError('UNAUTHORIZED', 'invalid signature');
      return req.strategyApiCaller;
    };

    app.get('/v1/positions', {
      schema: { response: { 200: { type: 'object', required: ['account', 'positions'], properties: { account: str, positions: { type: 'array', items: position } } }, ...errors } },
    }, async (req) => {
      const s = caller(req);
      return { account: s.account, positions: await accountPositions(deps.pool, s.account) };
    });

    app.get<{ Querystring: { status?: OrderStatusFilter; limit?: number } }>('/v1/orders', {
      schema: {
        querystring: {
          type: 'object', additionalProperties: false,
          properties: { status: { type: 'string', enum: ['open', 'closed', 'all'] }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
        response: { 200: { type: 'object', required: ['orders'], properties: { orders: { type: 'array', items: order } } }, ...errors },
      },
    }, async (req) => ({ orders: await strategyOrders(deps.pool, caller(req).id, req.query.status ?? 'all', req.query.limit ?? 100) }));

    app.get<{ Params: { id: string } }>('/v1/orders/:id', {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: { type: 'object', required: ['order', 'trail'], properties: { order, trail: { type: 'object', additionalProperties: true } } }, ...errors },
      },
    }, async (req) => {
      const found = await strategyOrder(deps.pool, caller(req).id, req.params.id);
      if (found === null) throw new EdgeError('NOT_FOUND', 'no such order');
      if (trailReads >= MAX_TRAIL_READS) throw new EdgeError('UNAVAILABLE', 'busy: too many order trails being read, retry');
      trailReads++;
      try {
        return { order: found, trail: JSON.parse(JSON.stringify(await deps.trail(found.orderId))) };
      } finally {
        trailReads--;
      }
    });
  };
}

// HTTP face of the analytics: GET /analytics/pnl and POST /analytics/query (read-only SQL).
// A plain (encapsulated) plugin: the optional preHandler guards these routes only, so the ops API's
// bearer-token hook can be passed in without touching the webhook routes beside them.
import type { FastifyPluginAsync, FastifyReply, preHandlerHookHandler } from 'fastify';
import { mayAct, type Role } from '../../streams/control/model.ts';
import { QueryError, type AnalyticsDb, type QueryOptions } from './query.ts';
import { SqlRefused, MAX_SQL_LENGTH } from './guard.ts';
import { formatCsv, formatTable, OptionsError, parsePnlOptions, type QueryResult } from './report.ts';

export type RoleLimits = (role: Role | null) => Pick<QueryOptions, 'timeoutMs' | 'priority'>;

export interface AnalyticsRoutesOptions {
  db: AnalyticsDb;
  /** Auth for these routes (e.g. the ops API's bearer token check). */
  preHandler?: preHandlerHookHandler | preHandlerHookHandler[];
  /** Limits for the caller's role (set by requireBearer); default: the database's own for everyone. */
  limits?: RoleLimits;
}

/**
 * Below operator (viewers: quants, screens, integrations) a shorter time limit and low priority: in the
 * queue behind the desk's queries, and out of it when the desk needs the place. Operators and admins get
 * the full limits.
 */
export const limitsByRole = (viewerTimeoutMs: number): RoleLimits => (role) =>
  (role !== null && mayAct(role, 'operator') ? {} : { timeoutMs: viewerTimeoutMs, priority: 'low' });

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's ops role, once requireBearer has let it through. */
    analyticsRole: Role | null;
  }
  interface FastifyContextConfig {
    /** Set on POST /analytics/query: SQL the caller writes, whose cost the caller chooses. */
    analyticsAdHoc?: boolean;
  }
}

/**
 * A preHandler that lets through a caller an `Authorization: Bearer` check accepts: any ops role for the
 * P&L report, `sqlRole` or above for ad-hoc SQL (default viewer), e.g. `requireBearer(ops.auth, { sqlRole: 'operator' })`.
 */
export const requireBearer = (
  auth: { authenticate(header: string | undefined): Promise<{ readonly role: Role } | null> },
  o: { sqlRole?: Role } = {},
): preHandlerHookHandler =>
  async (req, reply) => {
    const who = await auth.authenticate(req.headers.authorization);
    if (!who) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'UNAUTHORIZED' } });
      return;
    }
    req.analyticsRole = who.role;
    const needed = o.sqlRole ?? 'viewer';
    if (req.routeOptions.config.analyticsAdHoc && !mayAct(who.role, needed)) {
      await reply.code(403).send({ error: {
        code: 'FORBIDDEN',
        message: `role ${who.role} may not run ad-hoc SQL: it needs ${needed} or above (ANALYTICS_QUERY_ROLE); GET /analytics/pnl is open to every role`,
      } });
    }
  };

/** Aborts when the caller goes away before its answer is written, so its query stops and frees its slot. */
function whileConnected(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => { if (!reply.raw.writableFinished) ac.abort(); });
  return ac.signal;
}

const errorBody = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } },
} as const;
const resultBody = {
  type: 'object', required: ['columns', 'rows', 'truncated'],
  properties: {
    columns: { type: 'array', items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { type: 'string' } } } },
    rows: { type: 'array', items: { type: 'array', items: {} } },
    truncated: { type: 'boolean' },
  },
} as const;

function refuse(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof OptionsError) return reply.code(400).send({ error: { code: 'INVALID_FIELD', field: e.field, message: e.message } });
  if (e instanceof SqlRefused) return reply.code(400).send({ error: { code: 'SQL_REFUSED', message: e.message } });
  if (e instanceof QueryError) {
    // Busy or restarting is our capacity: 503, come back soon.
    if (e.code === 'QUERY_BUSY' || e.code === 'ANALYTICS_UNAVAILABLE') return reply.code(503).header('retry-after', '1').send({ error: { code: e.code, message: e.message } });
    // Bad SQL and a query over its time or memory limit are the caller's query, not our fault: 400 with
    // a message that names the problem (DuckDB's parser, binder or permission error, or the limit).
    return reply.code(400).send({ error: { code: e.code, message: e.message } });
  }
  throw e;
}

const send = (reply: FastifyReply, r: QueryResult, format: 'table' | 'csv' | 'json'): FastifyReply => {
  if (format === 'csv') return reply.type('text/csv; charset=utf-8').serializer((x) => x as string).send(formatCsv(r));
  if (format === 'table') return reply.type('text/plain; charset=utf-8').serializer((x) => x as string).send(formatTable(r));
  return reply.send(r);
};

export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesOptions> = async (app, opts) => {
  app.decorateRequest('analyticsRole', null);
  const limits = (role: Role | null) => opts.limits?.(role) ?? {};
  if (opts.preHandler) {
    for (const h of [opts.preHandler].flat()) app.addHook('preHandler', h);
  }
  // Scoped to these routes: body and query validation errors in the same shape as the others; anything
  // else is ours, and says nothing about internals.
  app.setErrorHandler((err: { validation?: unknown; statusCode?: number; message: string }, req, reply) => {
    if (err.validation) return reply.code(400).send({ error: { code: 'INVALID_FIELD', message: err.message } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    req.log.error({ err }, 'analytics route failed');
    return reply.code(500).send({ error: { code: 'INTERNAL' } });
  });

  app.get<{ Querystring: { by?: string; from?: string; to?: string; format?: string } }>('/analytics/pnl', {
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { by: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' } },
      },
      response: { 200: resultBody, '4xx': errorBody, '5xx': errorBody },
    },
  }, async (req, reply) => {
    try {
      const o = parsePnlOptions({ format: 'json', ...req.query });
      return send(reply, await opts.db.pnl(o, { ...limits(req.analyticsRole), signal: whileConnected(reply) }), o.format);
    } catch (e) {
      return refuse(reply, e);
    }
  });

  app.post<{ Body: { sql: string; maxRows?: number } }>('/analytics/query', {
    config: { analyticsAdHoc: true },
    schema: {
      body: {
        type: 'object', required: ['sql'], additionalProperties: false,
        properties: { sql: { type: 'string', minLength: 1, maxLength: MAX_SQL_LENGTH }, maxRows: { type: 'integer', minimum: 1 } },
      },
      response: { 200: resultBody, '4xx': errorBody, '5xx': errorBody },
    },
  }, async (req, reply) => {
    try {
      return reply.send(await opts.db.query(req.body.sql, { ...limits(req.analyticsRole), maxRows: req.body.maxRows, signal: whileConnected(reply) }));
    } catch (e) {
      return refuse(reply, e);
    }
  });
};

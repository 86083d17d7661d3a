// HTTP face of the analytics: GET /analytics/pnl and POST /analytics/query (read-only SQL).
// A plain (encapsulated) plugin: the optional preHandler guards these routes only, so the ops API's
// bearer-token hook can be passed in without touching the webhook routes beside them.
import type { FastifyPluginAsync, FastifyReply, preHandlerHookHandler } from 'fastify';
import { QueryError, type AnalyticsDb } from './db.ts';
import { SqlRefused, MAX_SQL_LENGTH } from './guard.ts';
import { formatCsv, formatTable, OptionsError, parsePnlOptions, type QueryResult } from './report.ts';

export interface AnalyticsRoutesOptions {
  db: AnalyticsDb;
  /** Auth for these routes (e.g. the ops API's bearer token check). */
  preHandler?: preHandlerHookHandler | preHandlerHookHandler[];
}

/**
 * A preHandler that lets through any caller an `Authorization: Bearer` check accepts (any ops role:
 * quants are viewers), e.g. `requireBearer(ops.auth)`.
 */
export const requireBearer = (auth: { authenticate(header: string | undefined): Promise<unknown> }): preHandlerHookHandler =>
  async (req, reply) => {
    if (!(await auth.authenticate(req.headers.authorization))) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'UNAUTHORIZED' } });
    }
  };

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
  // Bad SQL and timeouts are the caller's query, not our fault: 400 with DuckDB's message, which names
  // the problem (a parser, binder or permission error about the query itself).
  if (e instanceof QueryError) return reply.code(400).send({ error: { code: e.code, message: e.message } });
  throw e;
}

const send = (reply: FastifyReply, r: QueryResult, format: 'table' | 'csv' | 'json'): FastifyReply => {
  if (format === 'csv') return reply.type('text/csv; charset=utf-8').serializer((x) => x as string).send(formatCsv(r));
  if (format === 'table') return reply.type('text/plain; charset=utf-8').serializer((x) => x as string).send(formatTable(r));
  return reply.send(r);
};

export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesOptions> = async (app, opts) => {
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
      return send(reply, await opts.db.pnl(o), o.format);
    } catch (e) {
      return refuse(reply, e);
    }
  });

  app.post<{ Body: { sql: string; maxRows?: number } }>('/analytics/query', {
    schema: {
      body: {
        type: 'object', required: ['sql'], additionalProperties: false,
        properties: { sql: { type: 'string', minLength: 1, maxLength: MAX_SQL_LENGTH }, maxRows: { type: 'integer', minimum: 1 } },
      },
      response: { 200: resultBody, '4xx': errorBody, '5xx': errorBody },
    },
  }, async (req, reply) => {
    try {
      return reply.send(await opts.db.query(req.body.sql, { maxRows: req.body.maxRows }));
    } catch (e) {
      return refuse(reply, e);
    }
  });
};

// The router's cost model through the ops API: GET /ops/cost-model, PUT /ops/cost-model/desk,
// PUT /ops/cost-model/venue/:venue (admin). Same write path as limits (streams/control/writer.ts):
// validate with the decide config's own schemas → Postgres transaction (row + audit) → produce the
// COST_MODEL Control record with acks=all → commit. If Kafka does not acknowledge in time the
// transaction rolls back and the caller gets 503: Postgres never holds a model the router was not sent.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Control, Scope } from '../../schemas/types.ts';
import { validateControl } from '../../streams/decide/controlFold.ts';
import { controlKey, mayAct, type Role } from '../../streams/control/model.ts';
import { lockKey } from '../../streams/control/store.ts';
import type { Publish } from '../../streams/control/publisher.ts';
import { publishControlWithin } from '../../streams/control/writer.ts';
import { shadowReport } from '../../streams/shadow/report.ts';
import { loadOutcomes } from '../../streams/shadow/store.ts';
import { EdgeError, invalidField } from '../errors.ts';
import type { OpsAuth, OpsIdentity } from './auth.ts';

export type CostScope = Extract<Scope, 'DESK' | 'VENUE'>;
export type CostDoc = Readonly<Record<string, unknown>>;

export interface CostModelRow { scope: CostScope; target: string; model: CostDoc; updatedBy: string; updatedAt: string; controlId: string }

/** Pure: the Control record a change publishes, or the refused field (named without `payload.`). */
export function costModelControl(
  scope: CostScope, target: string, doc: CostDoc, who: { actor: string; reason: string | null }, ids: { controlId: string; at: number; hlc: number },
): { ok: true; control: Control } | { ok: false; field: string; message: string } {
  const control: Control = {
    controlId: ids.controlId, kind: 'COST_MODEL', scope, target, state: null, payload: JSON.stringify(doc),
    actor: who.actor, reason: who.reason, at: ids.at, hlc: ids.hlc,
  };
  const issue = validateControl(control);
  if (issue === null) return { ok: true, control };
  const field = issue.field.startsWith('payload.') ? issue.field.slice('payload.'.length) : issue.field;
  return { ok: false, field, message: issue.message };
}

export interface CostModelStoreOptions {
  pool: pg.Pool; publish: Publish; log: Logger; hlc: () => number; clock?: () => number; publishTimeoutMs?: number;
}

export function createCostModelStore(o: CostModelStoreOptions) {
  const clock = o.clock ?? Date.now;
  const timeoutMs = o.publishTimeoutMs ?? 5000;

  const publishWithin = (control: Control) => publishControlWithin(o.publish, control, timeoutMs);

  return {
    shadowReport: async () => shadowReport(await loadOutcomes(o.pool)),

    async list(): Promise<CostModelRow[]> {
      const { rows } = await o.pool.query(
        `SELECT scope, target, model, updated_by AS "updatedBy", to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt",
           control_id AS "controlId" FROM cost_models ORDER BY scope, target`,
      );
      return rows as CostModelRow[];
    },

    async change(scope: CostScope, target: string, doc: CostDoc, who: { actor: string; role: Role; reason: string | null }) {
      const checked = costModelControl(scope, target, doc, who, { controlId: `ops-${randomUUID()}`, at: clock(), hlc: o.hlc() });
      if (!checked.ok) throw invalidField(checked.field, checked.message);
      const control = checked.control;
      const key = controlKey('COST_MODEL', scope, target);
      const client = await o.pool.connect();
      try {
        await client.query('BEGIN');
        await lockKey(client, key);
        const prev = await client.query<{ model: CostDoc }>('SELECT model FROM cost_models WHERE scope = $1 AND target = $2', [scope, target]);
        const previous = prev.rows[0]?.model ?? null;
        await client.query(
          `INSERT INTO cost_models (scope, target, model, control_id, topic_offset, updated_by, updated_at) VALUES ($1, $2, $3, $4, NULL, $5, now())
           ON CONFLICT (scope, target) DO UPDATE SET model = EXCLUDED.model, control_id = EXCLUDED.control_id, topic_offset = NULL,
             updated_by = EXCLUDED.updated_by, updated_at = now()`,
          [scope, target, JSON.stringify(doc), control.controlId, who.actor],
        );
        const audit = await client.query<{ audit_id: string }>(
          `INSERT INTO control_audit (actor, role, action, kind, scope, target, old_value, new_value, reason, control_id)
           VALUES ($1, $2, 'SET_COST_MODEL', 'COST_MODEL', $3, $4, $5, $6, $7, $8) RETURNING audit_id::text`,
          [who.actor, who.role, scope, target, previous === null ? null : JSON.stringify(previous), JSON.stringify(doc), who.reason, control.controlId],
        );
        const offset = await publishWithin(control);
        await client.query('UPDATE cost_models SET topic_offset = $3 WHERE scope = $1 AND target = $2', [scope, target, offset]);
        await client.query('COMMIT');
        o.log.info({ actor: who.actor, scope, target, controlId: control.controlId }, 'cost model changed');
        return { controlId: control.controlId, scope, target, previous, current: doc, offset, auditId: audit.rows[0].audit_id };
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
  };
}

export type CostModelStore = ReturnType<typeof createCostModelStore>;

const value = { type: ['object', 'null'], additionalProperties: true } as const;
const errorAnswer = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } },
} as const;
const errors = { '4xx': errorAnswer, '5xx': errorAnswer } as const;
const changed = {
  type: 'object',
  properties: {
    controlId: { type: 'string' }, scope: { type: 'string' }, target: { type: 'string' }, previous: value, current: value,
    offset: { type: 'string' }, auditId: { type: 'string' },
  },
} as const;
const listed = {
  type: 'object',
  properties: {
    desk: value,
    venues: { type: 'object', additionalProperties: value },
    rows: {
      type: 'array',
      items: { type: 'object', properties: { scope: { type: 'string' }, target: { type: 'string' }, model: value, updatedBy: { type: 'string' }, updatedAt: { type: 'string' }, controlId: { type: 'string' } } },
    },
  },
} as const;
const maybe = { type: ['number', 'null'] } as const;
const report = {
  type: 'object',
  properties: {
    lines: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          book: { type: 'string' }, venue: { type: 'string' }, symbol: { type: 'string' }, orders: { type: 'integer' }, fillRate: { type: 'number' },
          slippageBps: maybe, realisedCostBps: maybe, estimatedBps: maybe, vsEstimateBps: maybe,
        },
      },
    },
  },
} as const;
const reasonQuery = { type: 'object', properties: { reason: { type: 'string', maxLength: 500 } } } as const;

/** Registered under /ops next to the limits routes; the same tokens and roles guard it. */
export function costModelRoutes(deps: { store: CostModelStore; auth: OpsAuth }) {
  return async function costModel(app: FastifyInstance): Promise<void> {
    const identities = new WeakMap<FastifyRequest, OpsIdentity>();
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const who = await deps.auth.authenticate(req.headers.authorization);
      if (who === null) {
        reply.header('www-authenticate', 'Bearer realm="ops"');
        throw new EdgeError('UNAUTHORIZED', 'missing or invalid bearer token');
      }
      const needed = req.routeOptions.config?.opsRole ?? 'admin';
      if (!mayAct(who.role, needed)) throw new EdgeError('FORBIDDEN', `role ${who.role} may not do this`, undefined, `needs ${needed}`);
      identities.set(req, who);
    });
    const who = (req: FastifyRequest) => identities.get(req)!;

    app.get('/cost-model', { config: { opsRole: 'viewer' }, schema: { response: { 200: listed, ...errors } } }, async () => {
      const rows = await deps.store.list();
      const venues: Record<string, CostDoc> = {};
      for (const r of rows) if (r.scope === 'VENUE') venues[r.target] = r.model;
      return { desk: rows.find((r) => r.scope === 'DESK')?.model ?? null, venues, rows };
    });

    app.get('/shadow-report', { config: { opsRole: 'viewer' }, schema: { response: { 200: report, ...errors } } }, async () => ({ lines: await deps.store.shadowReport() }));

    app.put<{ Querystring: { reason?: string }; Body: Record<string, unknown> }>(
      '/cost-model/desk',
      { config: { opsRole: 'admin' }, schema: { querystring: reasonQuery, body: { type: 'object' }, response: { 200: changed, ...errors } } },
      async (req) => deps.store.change('DESK', '*', req.body, { actor: who(req).name, role: who(req).role, reason: req.query.reason ?? null }),
    );

    app.put<{ Params: { venue: string }; Querystring: { reason?: string }; Body: Record<string, unknown> }>(
      '/cost-model/venue/:venue',
      {
        config: { opsRole: 'admin' },
        schema: {
          params: { type: 'object', required: ['venue'], properties: { venue: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } } },
          querystring: reasonQuery, body: { type: 'object' }, response: { 200: changed, ...errors },
        },
      },
      async (req) => deps.store.change('VENUE', req.params.venue, req.body, { actor: who(req).name, role: who(req).role, reason: req.query.reason ?? null }),
    );
  };
}

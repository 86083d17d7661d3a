// Cancels on the ops API: POST /ops/cancel (one order by orderId, or every resting order of a scope),
// the cancelOnHalt setting per scope, and the cancels a halt asks for when it is on. The routes only
// check the request against the projection and produce cancel requests (connectors/cancelRequest.ts);
// the connector that owns each order cancels it at its venue and records the venue's answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CancelRequest, Scope } from '../../schemas/types.ts';
import type { CancelBy, CancelRequester, CancelTarget } from '../../connectors/cancelRequest.ts';
import { auditCancel, cancelOnHalt, listCancelOnHalt, setCancelOnHalt, type CancelOnHaltView } from '../../streams/control/cancelOnHalt.ts';
import type { Role } from '../../streams/control/model.ts';
import { EdgeError, invalidField } from '../errors.ts';
import { openOrders, orderState, type OrderRow } from './openOrders.ts';

interface Who { actor: string; role: Role | null; reason: string | null }

/** What the routes need; a fake of it serves the unit tests. */
export interface OpsCancels {
  open(scope: Scope, target: string): Promise<OrderRow[]>;
  state(orderId: string): Promise<OrderRow | null>;
  request(targets: CancelTarget[], by: CancelBy): Promise<CancelRequest[]>;
  audit(scope: Scope, target: string, requested: { orderId: string; requestId: string }[], who: Who & { action: 'CANCEL' | 'CANCEL_ON_HALT' }): Promise<string>;
  cancelOnHalt(scope: Scope, target: string): Promise<boolean>;
  setCancelOnHalt(scope: Scope, target: string, enabled: boolean, who: Who): Promise<{ previous: boolean; auditId: string }>;
  listCancelOnHalt(): Promise<CancelOnHaltView[]>;
}

export function createOpsCancels(o: { pool: pg.Pool; requester: CancelRequester; publishTimeoutMs?: number }): OpsCancels {
  const timeoutMs = o.publishTimeoutMs ?? 5000;
  return {
    open: (scope, target) => openOrders(o.pool, scope, target),
    state: (orderId) => orderState(o.pool, orderId),
    async request(targets, by) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no acknowledgement within ${timeoutMs} ms`)), timeoutMs); });
      try {
        return await Promise.race([o.requester.request(targets, by), late]);
      } catch {
        throw new EdgeError('UNAVAILABLE', 'cancel requests not acknowledged by Kafka; ask again (a repeated cancel changes nothing)');
      } finally {
        clearTimeout(timer);
      }
    },
    audit: (scope, target, requested, who) => auditCancel(o.pool, scope, target, requested, who),
    cancelOnHalt: (scope, target) => cancelOnHalt(o.pool, scope, target),
    setCancelOnHalt: (scope, target, enabled, who) => setCancelOnHalt(o.pool, scope, target, enabled, who),
    listCancelOnHalt: () => listCancelOnHalt(o.pool),
  };
}

const SCOPES = ['desk', 'account', 'strategy', 'venue', 'symbol'] as const;
const CANCEL_FIELDS = new Set(['orderId', 'scope', 'target', 'reason']);
const toScope = (s: string): Scope => s.toUpperCase() as Scope;
const target = { type: 'string', minLength: 1, maxLength: 128 } as const;
const reason = { type: 'string', maxLength: 500 } as const;
const errorAnswer = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } },
} as const;
const errors = { '4xx': errorAnswer, '5xx': errorAnswer } as const;
export const requestedList = {
  type: 'array',
  items: { type: 'object', properties: { requestId: { type: 'string' }, orderId: { type: 'string' }, account: { type: 'string' }, venue: { type: 'string' }, symbol: { type: ['string', 'null'] } } },
} as const;
const requestedAnswer = { type: 'object', properties: { requested: requestedList, auditId: { type: ['string', 'null'] } } } as const;
const settingsList = {
  type: 'object',
  properties: { settings: { type: 'array', items: { type: 'object', properties: { scope: { type: 'string' }, target: { type: 'string' }, enabled: { type: 'boolean' }, updatedBy: { type: 'string' }, updatedAt: { type: 'string' } } } } },
} as const;

const targetsOf = (rows: OrderRow[]): CancelTarget[] => rows.map((r) => ({ orderId: r.orderId, clientOrderId: r.clientOrderId, account: r.account, venue: r.venue, symbol: r.symbol }));
const shown = (r: CancelRequest) => ({ requestId: r.requestId, orderId: r.orderId, account: r.account, venue: r.venue, symbol: r.symbol });

/** Cancels every resting order of the scope; `source` says why (an ops cancel, or a halt). */
export async function cancelScope(c: OpsCancels, scope: Scope, tgt: string, who: Who, source: 'ops' | 'halt') {
  const rows = await c.open(scope, tgt);
  const sent = await c.request(targetsOf(rows), { source, actor: who.actor, reason: who.reason });
  const auditId = sent.length === 0 ? null : await c.audit(scope, tgt, sent.map((r) => ({ orderId: r.orderId, requestId: r.requestId })), { ...who, action: source === 'halt' ? 'CANCEL_ON_HALT' : 'CANCEL' });
  return { requested: sent.map(shown), auditId };
}

/** After a halt: the cancels it asks for when cancelOnHalt is on for the scope (or the request says so). */
export async function cancelsForHalt(c: OpsCancels, scope: Scope, tgt: string, override: boolean | undefined, who: Who, log: Logger) {
  try {
    const on = override ?? await c.cancelOnHalt(scope, tgt);
    if (!on) return null;
    return await cancelScope(c, scope, tgt, who, 'halt');
  } catch (e) {
    // The halt stands (it is on `control`); the cancels can be asked for again with POST /ops/cancel.
    log.error({ scope, target: tgt, err: e instanceof Error ? e.message : String(e) }, 'halted, but its cancels were not requested');
    return { requested: [], auditId: null, error: 'halted, but its cancels were not requested; POST /ops/cancel for the scope' };
  }
}

function scopeTarget(scope: Scope, tgt: string | undefined): string {
  if (scope === 'DESK') return '*';
  if (tgt === undefined) throw invalidField('target', 'target is required unless scope is desk');
  return tgt;
}

export function registerCancelRoutes(app: FastifyInstance, c: OpsCancels, log: Logger): void {
  const who = (req: FastifyRequest, why: string | null): Who => ({ actor: req.opsIdentity!.name, role: req.opsIdentity!.role, reason: why });

  app.post<{ Body: { orderId?: string; scope?: (typeof SCOPES)[number]; target?: string; reason?: string } }>(
    '/cancel',
    {
      config: { opsRole: 'operator' },
      schema: {
        body: { type: 'object', properties: { orderId: target, scope: { type: 'string', enum: SCOPES }, target, reason } },
        response: { 202: requestedAnswer, ...errors },
      },
    },
    async (req, reply: FastifyReply) => {
      const b = req.body;
      // Refused, not ignored: a misspelt `orderId` must not turn into a cancel of a whole scope.
      for (const k of Object.keys(b)) if (!CANCEL_FIELDS.has(k)) throw invalidField(k, `unknown field ${k}`);
      const w = who(req, b.reason ?? null);
      if (b.orderId !== undefined && b.scope !== undefined) throw invalidField('orderId', 'give either orderId or scope, not both');
      if (b.orderId !== undefined) {
        const row = await c.state(b.orderId);
        if (row === null) return reply.code(404).send({ error: { code: 'UNKNOWN_ORDER', field: 'orderId', message: `no order ${b.orderId} in the execution log` } });
        if (row.status !== 'OPEN') {
          const state = row.status === 'PENDING' ? 'not acknowledged by its venue yet' : row.status.toLowerCase();
          return reply.code(409).send({ error: { code: 'ORDER_NOT_OPEN', field: 'orderId', message: `order ${b.orderId} is ${state}; nothing to cancel` } });
        }
        const sent = await c.request(targetsOf([row]), { source: 'ops', actor: w.actor, reason: w.reason });
        const auditId = await c.audit('ACCOUNT', row.account, sent.map((r) => ({ orderId: r.orderId, requestId: r.requestId })), { ...w, action: 'CANCEL' });
        log.info({ actor: w.actor, orderId: b.orderId, requestId: sent[0]?.requestId }, 'cancel requested');
        return reply.code(202).send({ requested: sent.map(shown), auditId });
      }
      if (b.scope === undefined) throw invalidField('orderId', 'give orderId, or scope (and target) for every resting order of a scope');
      const scope = toScope(b.scope);
      const out = await cancelScope(c, scope, scopeTarget(scope, b.target), w, 'ops');
      log.info({ actor: w.actor, scope, target: b.target ?? '*', count: out.requested.length }, 'cancels requested');
      return reply.code(202).send(out);
    },
  );

  app.get('/cancel-on-halt', { config: { opsRole: 'viewer' }, schema: { response: { 200: settingsList, ...errors } } }, async () => ({ settings: await c.listCancelOnHalt() }));

  app.put<{ Params: { scope: (typeof SCOPES)[number]; target: string }; Body: { enabled: boolean; reason?: string } }>(
    '/cancel-on-halt/:scope/:target',
    {
      config: { opsRole: 'operator' },
      schema: {
        params: { type: 'object', required: ['scope', 'target'], properties: { scope: { type: 'string', enum: SCOPES }, target } },
        body: { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' }, reason } },
        response: { 200: { type: 'object', properties: { scope: { type: 'string' }, target: { type: 'string' }, previous: { type: 'boolean' }, enabled: { type: 'boolean' }, auditId: { type: 'string' } } }, ...errors },
      },
    },
    async (req) => {
      const scope = toScope(req.params.scope);
      const tgt = scope === 'DESK' ? '*' : req.params.target;
      const r = await c.setCancelOnHalt(scope, tgt, req.body.enabled, who(req, req.body.reason ?? null));
      log.info({ actor: req.opsIdentity!.name, scope, target: tgt, enabled: req.body.enabled }, 'cancelOnHalt changed');
      return { scope, target: tgt, previous: r.previous, enabled: req.body.enabled, auditId: r.auditId };
    },
  );
}

// The ops API, a Fastify plugin registered under /ops on the edge app. Every route names the role it
// needs; one onRequest hook authenticates (401) and authorises (403) before the body is even parsed.
// The handlers only translate HTTP to control-plane requests: rules live in streams/control.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Scope } from '../../schemas/types.ts';
import { mayAct, STATE_FOR, type ControlValue, type ManagedKind, type OpsAction, type Role } from '../../streams/control/model.ts';
import type { ControlPlane } from '../../streams/control/plane.ts';
import { ControlRejected, type ChangeResult } from '../../streams/control/writer.ts';
import { RouterError } from '../../schemas/errors.ts';
import type { Settlement } from '../../schemas/orderOutcome.ts';
import { EdgeError, invalidField } from '../errors.ts';
import type { OpsAuth, OpsIdentity } from './auth.ts';
import { cancelsForHalt, registerCancelRoutes, requestedList, type OpsCancels } from './cancel.ts';

declare module 'fastify' {
  interface FastifyRequest {
    opsIdentity: OpsIdentity | null;
  }
  interface FastifyContextConfig {
    /** The least role that may call the route. */
    opsRole?: Role;
  }
}

export interface OpsDeps { plane: ControlPlane; auth: OpsAuth; log: Logger; cancels?: OpsCancels }

const STATE_SCOPES = ['desk', 'account', 'strategy', 'venue', 'symbol'] as const;
const LIMIT_SCOPES = ['desk', 'account', 'strategy', 'symbol'] as const;

const value = { type: ['object', 'null'], additionalProperties: true } as const;
const errorAnswer = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } } },
} as const;
const changed = {
  type: 'object',
  properties: {
    controlId: { type: 'string' }, kind: { type: 'string' }, scope: { type: 'string' }, target: { type: 'string' },
    previous: value, current: value, offset: { type: 'string' }, auditId: { type: 'string' },
  },
} as const;
const errors = { '4xx': errorAnswer, '5xx': errorAnswer } as const;
const stamp = { updatedBy: { type: 'string' }, updatedAt: { type: 'string' }, controlId: { type: 'string' } } as const;
const limitsList = {
  type: 'object',
  properties: { limits: { type: 'array', items: { type: 'object', properties: { scope: { type: 'string' }, target: { type: 'string' }, limits: value, ...stamp } } } },
} as const;
const statesList = {
  type: 'object',
  properties: {
    states: {
      type: 'array',
      items: { type: 'object', properties: { scope: { type: 'string' }, target: { type: 'string' }, state: { type: 'string' }, reason: { type: ['string', 'null'] }, ...stamp } },
    },
  },
} as const;
const auditList = {
  type: 'object',
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          auditId: { type: 'string' }, at: { type: 'string' }, actor: { type: 'string' }, role: { type: ['string', 'null'] }, action: { type: 'string' },
          kind: { type: 'string' }, scope: { type: 'string' }, target: { type: 'string' }, oldValue: value, newValue: value,
          reason: { type: ['string', 'null'] }, controlId: { type: 'string' },
        },
      },
    },
  },
} as const;
// An operator's settlement waiting for its connector: status SETTLE, what was said, by whom and why.
const settledProps = {
  status: { type: 'string' }, settle: { type: ['object', 'null'], additionalProperties: true }, settledBy: { type: ['string', 'null'] }, settleReason: { type: ['string', 'null'] },
} as const;
const settled = {
  type: 'object',
  properties: { venue: { type: 'string' }, clientOrderId: { type: 'string' }, orderId: { type: 'string' }, ...settledProps },
} as const;
const unknownList = {
  type: 'object',
  properties: {
    caughtUp: { type: 'boolean' },
    orders: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          clientOrderId: { type: 'string' }, orderId: { type: 'string' }, venue: { type: 'string' }, symbol: { type: 'string' }, side: { type: 'string' },
          quantity: { type: 'number' }, account: { type: 'string' }, strategy: { type: 'string' }, since: { type: 'integer' }, reason: { type: 'string' },
          ...settledProps,
        },
      },
    },
  },
} as const;
const target = { type: 'string', minLength: 1, maxLength: 128 } as const;
const reason = { type: 'string', maxLength: 500 } as const;
const stateBody = {
  type: 'object', required: ['scope'],
  properties: { scope: { type: 'string', enum: STATE_SCOPES }, target, reason },
} as const;
// A halt may say whether it also cancels the scope's resting orders; unsaid, the scope's cancelOnHalt decides.
const haltBody = { ...stateBody, properties: { ...stateBody.properties, cancelOnHalt: { type: 'boolean' } } } as const;
const halted = {
  type: 'object',
  properties: { ...changed.properties, cancels: { type: ['object', 'null'], properties: { requested: requestedList, auditId: { type: ['string', 'null'] }, error: { type: 'string' } } } },
} as const;
const limitParams = {
  type: 'object', required: ['scope', 'target'],
  properties: { scope: { type: 'string', enum: LIMIT_SCOPES }, target },
} as const;

const toScope = (s: string): Scope => s.toUpperCase() as Scope;

function answer(r: ChangeResult) {
  const c = r.control;
  return { controlId: c.controlId, kind: c.kind, scope: c.scope, target: c.target, previous: r.previous, current: r.current, offset: r.offset, auditId: r.auditId };
}

/** A settlement body: exactly one of `notTraded: true` and `venueOrderId`, beside `reason`; anything else names its field. */
export function settlementOf(body: Record<string, unknown>): Settlement {
  const extra = Object.keys(body).find((k) => !['notTraded', 'venueOrderId', 'reason'].includes(k));
  if (extra !== undefined) throw invalidField(extra, `unknown field ${extra}: a settlement takes notTraded or venueOrderId, and reason`);
  const { notTraded, venueOrderId } = body;
  if (notTraded !== undefined && venueOrderId !== undefined) throw invalidField('venueOrderId', 'give either notTraded or venueOrderId, not both');
  if (notTraded !== undefined) {
    if (notTraded !== true) throw invalidField('notTraded', 'notTraded must be true (the venue\'s statement shows the order never traded)');
    return { notTraded: true };
  }
  if (typeof venueOrderId !== 'string' || venueOrderId.length === 0 || venueOrderId.length > 128) {
    throw invalidField('venueOrderId', venueOrderId === undefined ? 'give notTraded: true or the venueOrderId the venue holds the order under' : 'venueOrderId must be 1 to 128 characters');
  }
  return { venueOrderId };
}

const reasonOf = (body: Record<string, unknown>): string => {
  const r = body.reason;
  if (typeof r !== 'string' || r.trim().length === 0 || r.length > 500) throw invalidField('reason', 'reason is required: 1 to 500 characters saying what the venue\'s statement shows');
  return r;
};

export function opsRoutes(deps: OpsDeps) {
  return async function ops(app: FastifyInstance): Promise<void> {
    app.decorateRequest('opsIdentity', null);
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const who = await deps.auth.authenticate(req.headers.authorization);
      if (who === null) {
        reply.header('www-authenticate', 'Bearer realm="ops"');
        throw new EdgeError('UNAUTHORIZED', 'missing or invalid bearer token');
      }
      // A route that forgot to say is admin-only rather than open.
      const needed = req.routeOptions.config?.opsRole ?? 'admin';
      if (!mayAct(who.role, needed)) throw new EdgeError('FORBIDDEN', `role ${who.role} may not do this`, undefined, `needs ${needed}`);
      req.opsIdentity = who;
    });

    async function change(req: FastifyRequest, kind: ManagedKind, scope: Scope, tgt: string, v: ControlValue | null, action: OpsAction, why: string | null) {
      const who = req.opsIdentity!;
      try {
        const result = await deps.plane.change({ kind, scope, target: tgt, value: v, action, actor: who.name, role: who.role, reason: why });
        deps.log.info({ actor: who.name, role: who.role, action, kind, scope, target: tgt, controlId: result.control.controlId }, 'control changed');
        return answer(result);
      } catch (e) {
        if (e instanceof ControlRejected) throw invalidField(e.field, e.message);
        throw e;
      }
    }

    app.get('/limits', { config: { opsRole: 'viewer' }, schema: { response: { 200: limitsList, ...errors } } }, async () => ({ limits: await deps.plane.limits() }));

    app.put<{ Params: { scope: (typeof LIMIT_SCOPES)[number]; target: string }; Querystring: { reason?: string }; Body: Record<string, unknown> }>(
      '/limits/:scope/:target',
      { config: { opsRole: 'admin' }, schema: { params: limitParams, querystring: { type: 'object', properties: { reason } }, body: { type: 'object' }, response: { 200: changed, ...errors } } },
      async (req) => change(req, 'LIMITS', toScope(req.params.scope), req.params.target, req.body, 'SET_LIMITS', req.query.reason ?? null),
    );

    app.delete<{ Params: { scope: (typeof LIMIT_SCOPES)[number]; target: string }; Querystring: { reason?: string } }>(
      '/limits/:scope/:target',
      { config: { opsRole: 'admin' }, schema: { params: limitParams, querystring: { type: 'object', properties: { reason } }, response: { 200: changed, ...errors } } },
      async (req) => change(req, 'LIMITS', toScope(req.params.scope), req.params.target, null, 'CLEAR_LIMITS', req.query.reason ?? null),
    );

    app.get('/states', { config: { opsRole: 'viewer' }, schema: { response: { 200: statesList, ...errors } } }, async () => ({ states: await deps.plane.states() }));

    for (const action of ['HALT', 'REDUCE', 'RESUME'] as const) {
      app.post<{ Body: { scope: (typeof STATE_SCOPES)[number]; target?: string; reason?: string; cancelOnHalt?: boolean } }>(
        `/${action.toLowerCase()}`,
        { config: { opsRole: 'operator' }, schema: { body: action === 'HALT' ? haltBody : stateBody, response: { 200: action === 'HALT' ? halted : changed, ...errors } } },
        async (req) => {
          const scope = toScope(req.body.scope);
          const tgt = req.body.target ?? (scope === 'DESK' ? '*' : '');
          const result = await change(req, 'TRADING_STATE', scope, tgt, { state: STATE_FOR[action] }, action, req.body.reason ?? null);
          if (action !== 'HALT' || !deps.cancels) return result;
          const who = { actor: req.opsIdentity!.name, role: req.opsIdentity!.role, reason: req.body.reason ?? null };
          return { ...result, cancels: await cancelsForHalt(deps.cancels, scope, tgt, req.body.cancelOnHalt, who, deps.log) };
        },
      );
    }

    // Orders whose outcome at their venue is unknown (ORDER_OUTCOME on `control`): never resent, looked up until the venue lists them.
    app.get('/unknown-orders', { config: { opsRole: 'viewer' }, schema: { response: { 200: unknownList, ...errors } } }, async () => deps.plane.unknownOrders());

    // An operator settles one from the venue's statement (see schemas/orderOutcome.ts): its connector records it.
    app.post<{ Params: { venue: string; clientOrderId: string }; Body: Record<string, unknown> }>(
      '/unknown-orders/:venue/:clientOrderId/settle',
      {
        config: { opsRole: 'operator' },
        schema: { params: { type: 'object', required: ['venue', 'clientOrderId'], properties: { venue: target, clientOrderId: target } }, body: { type: 'object' }, response: { 200: settled, ...errors } },
      },
      async (req) => {
        const who = req.opsIdentity!;
        try {
          const u = await deps.plane.settleUnknown({ venue: req.params.venue, clientOrderId: req.params.clientOrderId, settle: settlementOf(req.body), actor: who.name, reason: reasonOf(req.body) });
          return { venue: u.venue, clientOrderId: u.clientOrderId, orderId: u.orderId, status: u.status, settle: u.settle, settledBy: u.settledBy, settleReason: u.settleReason };
        } catch (e) {
          if (e instanceof RouterError && e.code === 'NOT_FOUND') throw new EdgeError('NOT_FOUND', e.message, 'clientOrderId');
          if (e instanceof RouterError && e.code === 'UNAVAILABLE') throw new EdgeError('UNAVAILABLE', e.message);
          throw e;
        }
      },
    );

    if (deps.cancels) registerCancelRoutes(app, deps.cancels, deps.log);

    app.get<{ Querystring: { limit: number; before?: string; scope?: (typeof STATE_SCOPES)[number]; target?: string } }>(
      '/audit',
      {
        config: { opsRole: 'viewer' },
        schema: {
          querystring: {
            type: 'object',
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
              before: { type: 'string', pattern: '^[0-9]{1,18}$' },
              scope: { type: 'string', enum: STATE_SCOPES },
              target,
            },
          },
          response: { 200: auditList, ...errors },
        },
      },
      async (req) => ({
        entries: await deps.plane.audit({
          limit: req.query.limit, before: req.query.before, scope: req.query.scope ? toScope(req.query.scope) : undefined, target: req.query.target,
        }),
      }),
    );
  };
}

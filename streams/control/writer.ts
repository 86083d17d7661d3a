// The control plane's write paths, all under the same per-key Postgres lock:
//  - change (ops API): validate → transaction (row + audit) → produce the Control record (acks=all) →
//    commit. If Kafka does not acknowledge in time, the transaction rolls back and the caller gets
//    UNAVAILABLE: Postgres never holds a value the processors were not sent.
//  - mirror (every record read from `control`): a record newer than the row that did not come through
//    `change` (the risk gate's loss-breach halt, a connector's circuit breaker, or a `change` whose
//    acknowledgement timed out but which did land) is written to Postgres with an audit row, so the
//    ops view and the topic agree.
//  - republish (reconciler): a row the topic lacks is produced again.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Control } from '../../schemas/types.ts';
import { RouterError } from '../../schemas/errors.ts';
import type { Publish } from './publisher.ts';
import { checkRequest, controlKey, isManaged, sameValue, toControl, valueOf, type ControlRequest, type ControlValue } from './model.ts';
import { currentRow, insertAudit, lockKey, setCarrier, writeRow, type StoredControl } from './store.ts';


export interface ControlWriterOptions {
  pool: pg.Pool;
  publish: Publish;
  log: Logger;
  clock?: () => number;
  hlc: () => number;
  /** Longer than this, and the change is refused with UNAVAILABLE. */
  publishTimeoutMs?: number;
}

export interface ChangeResult {
  control: Control;
  previous: ControlValue | null;
  current: ControlValue | null;
  offset: string;
  auditId: string;
}

/** A change refused before anything was written; `field` names what is wrong. */
export class ControlRejected extends RouterError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('INVALID_CONTROL', message, { context: { field } });
    this.field = field;
    this.name = 'ControlRejected';
  }
}

/**
 * Publishes one control record and waits at most `timeoutMs` for the broker's acknowledgement: an
 * operator's change either reaches `control` in time or is answered 503 (and rolled back by the caller).
 */
export async function publishControlWithin(publish: Publish, control: Control, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([publish(control), timeout]);
  } catch (e) {
    throw new RouterError('UNAVAILABLE', 'control topic unavailable', { retriable: true, cause: e });
  } finally {
    clearTimeout(timer);
  }
}

export function createControlWriter(o: ControlWriterOptions) {
  const clock = o.clock ?? Date.now;
  const timeoutMs = o.publishTimeoutMs ?? 5000;
  const publishWithin = (control: Control) => publishControlWithin(o.publish, control, timeoutMs);

  async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await o.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  const ids = () => ({ controlId: `ops-${randomUUID()}`, at: clock(), hlc: o.hlc() });

  return {
    async change(req: ControlRequest): Promise<ChangeResult> {
      const issue = checkRequest(req);
      if (issue !== null) throw new ControlRejected(issue.field, issue.message);
      const control = toControl(req, ids());
      const key = controlKey(req.kind, req.scope, req.target);
      return inTransaction(async (client) => {
        await lockKey(client, key);
        const previous = (await currentRow(client, req.kind, req.scope, req.target))?.value ?? null;
        await writeRow(client, req.kind, req.scope, req.target, { value: req.value, controlId: control.controlId, topicOffset: null, actor: req.actor, reason: req.reason });
        const auditId = await insertAudit(client, {
          actor: req.actor, role: req.role, action: req.action, kind: req.kind, scope: req.scope, target: req.target,
          oldValue: previous, newValue: req.value, reason: req.reason, controlId: control.controlId,
        });
        const offset = await publishWithin(control);
        if (req.value !== null) await setCarrier(client, req.kind, req.scope, req.target, control.controlId, offset);
        return { control, previous, current: req.value, offset, auditId };
      });
    },

    /** Applies a record read from the topic at `offset` unless Postgres already has it or something newer. */
    async mirror(control: Control, offset: string): Promise<'applied' | 'carried' | 'skipped'> {
      if (!isManaged(control.kind)) return 'skipped';
      const kind = control.kind;
      const value = valueOf(control);
      return inTransaction(async (client) => {
        await lockKey(client, controlKey(kind, control.scope, control.target));
        const row = await currentRow(client, kind, control.scope, control.target);
        if (row !== null && (row.controlId === control.controlId || (row.topicOffset !== null && BigInt(row.topicOffset) >= BigInt(offset)))) {
          return 'skipped';
        }
        if (row === null && value === null) return 'skipped';
        if (row !== null && value !== null && sameValue(row.value, value)) {
          await setCarrier(client, kind, control.scope, control.target, control.controlId, offset);
          return 'carried';
        }
        await writeRow(client, kind, control.scope, control.target, { value, controlId: control.controlId, topicOffset: offset, actor: control.actor, reason: control.reason });
        await insertAudit(client, {
          actor: control.actor, role: null, action: 'FROM_TOPIC', kind, scope: control.scope, target: control.target,
          oldValue: row?.value ?? null, newValue: value, reason: control.reason, controlId: control.controlId,
        });
        o.log.info({ kind, scope: control.scope, target: control.target, actor: control.actor }, 'control from the topic recorded');
        return 'applied';
      });
    },

    /** Produces a stored row again (the topic lost it); the audit says so. */
    async republish(row: StoredControl): Promise<void> {
      const req: ControlRequest = {
        kind: row.kind, scope: row.scope, target: row.target, value: row.value, action: 'REPUBLISH', actor: 'reconciler', role: null, reason: row.reason,
      };
      const control = toControl(req, ids());
      const key = controlKey(row.kind, row.scope, row.target);
      await inTransaction(async (client) => {
        await lockKey(client, key);
        const current = await currentRow(client, row.kind, row.scope, row.target);
        if (current === null || !sameValue(current.value, row.value)) return; // changed meanwhile: that change was published
        await insertAudit(client, {
          actor: 'reconciler', role: null, action: 'REPUBLISH', kind: row.kind, scope: row.scope, target: row.target,
          oldValue: row.value, newValue: row.value, reason: row.reason, controlId: control.controlId,
        });
        const offset = await publishWithin(control);
        await setCarrier(client, row.kind, row.scope, row.target, control.controlId, offset);
      });
    },
  };
}

export type ControlWriter = ReturnType<typeof createControlWriter>;

// The control plane's shell: a producer for `control`, the mirror that tails `control` into Postgres,
// and the reconciler that runs once the mirror has caught up: every Postgres row whose key the topic
// lacks (a new environment, a topic recreated) is produced again, so the processors see what ops set.
// Only missing keys are republished: a record the topic holds is never overwritten from Postgres,
// because a newer one (a loss-breach halt) may not have been mirrored yet.
// The mirror and the reconciler start in the background, retried until they run: the edge that hosts
// the plane must not wait for the mirror's consumer group to form before it takes alerts, and a change
// made meanwhile goes to Postgres and the topic as always (the mirror is for what others write).
// The mirror also folds the connectors' ORDER_OUTCOME records (schemas/orderOutcome.ts): the orders of
// unknown outcome the ops API lists. They are not control-plane state and never reach Postgres.
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import { randomUUID } from 'node:crypto';
import { RouterError } from '../../schemas/errors.ts';
import { foldOutcome, listUnknown, outcomeControl, settleOutcome, type OrderOutcome, type Settlement, type UnknownOrders } from '../../schemas/orderOutcome.ts';
import { startTail, type Tail } from '../runtime/tail.ts';
import { controlKey } from './model.ts';
import { allRows, listAudit, listLimits, listStates } from './store.ts';
import { startControlPublisher, type Publish } from './publisher.ts';
import { createControlWriter, publishControlWithin, type ChangeResult } from './writer.ts';
import type { ControlRequest } from './model.ts';
import type { AuditView, LimitsView, StateView } from './store.ts';
import type { Scope } from '../../schemas/types.ts';

export interface ControlPlane {
  change(req: ControlRequest): Promise<ChangeResult>;
  limits(): Promise<LimitsView[]>;
  states(): Promise<StateView[]>;
  audit(q: { limit: number; before?: string; scope?: Scope; target?: string }): Promise<AuditView[]>;
  /** Orders of unknown outcome at their venue, oldest first; `caughtUp` false while the mirror still reads `control` back. */
  unknownOrders(): { orders: OrderOutcome[]; caughtUp: boolean };
  /**
   * An operator settles a listed order of unknown outcome from the venue's statement: a SETTLE record on
   * `control` under the order's key, which the owning connector acts on (connectors/unknownOutcomes.ts).
   * NOT_FOUND when the order is not listed; UNAVAILABLE (retriable) before the mirror has read `control`.
   */
  settleUnknown(req: { venue: string; clientOrderId: string; settle: Settlement; actor: string; reason: string }): Promise<OrderOutcome>;
}

export interface ControlPlaneOptions {
  kafka: Kafka;
  pool: pg.Pool;
  codec: Codec;
  topic: string;
  log: Logger;
  hlc: () => number;
  clock?: () => number;
  publishTimeoutMs?: number;
  /** Tests replace the producer to see what a Kafka outage does. */
  publish?: Publish;
}

export interface RunningControlPlane extends ControlPlane {
  /** The plane's producer for `control`: the process's other control writers (the cost model) use it too. */
  publish: Publish;
  /** The mirror has read the topic to its end and every row it lacked is republished. */
  reconciled: Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startControlPlane(o: ControlPlaneOptions): Promise<RunningControlPlane> {
  let stopPublisher: (() => Promise<void>) | null = null;
  let publish = o.publish;
  if (publish === undefined) {
    const publisher = await startControlPublisher(o.kafka, o.codec, o.topic);
    publish = publisher.publish;
    stopPublisher = publisher.stop;
  }
  const writer = createControlWriter({ pool: o.pool, publish, log: o.log, clock: o.clock, hlc: o.hlc, publishTimeoutMs: o.publishTimeoutMs });

  const onTopic = new Set<string>();
  let unknown: UnknownOrders = new Map();
  let caughtUp = false;
  let tail: Tail | null = null;
  let stopped = false;
  const stopTail = async () => { const t = tail; tail = null; await t?.stop().catch(() => {}); };

  async function mirrorAndReconcile(): Promise<void> {
    const t = await startTail(o.kafka, [o.topic], async (_topic, m) => {
      if (m.value === null) return;
      try {
        const control = await o.codec.decode('Control', m.value);
        if (control.kind === 'ORDER_OUTCOME') { unknown = foldOutcome(unknown, control); return; }
        onTopic.add(controlKey(control.kind, control.scope, control.target));
        await writer.mirror(control, m.offset);
      } catch (e) {
        // The record still reached the processors (which refuse it themselves if it is invalid).
        o.log.error({ err: e, offset: m.offset }, 'control record not mirrored');
      }
    });
    tail = t;
    if (stopped) return; // stop() came while the tail was starting: it stops it
    await t.caughtUp;
    caughtUp = true;
    let republished = 0;
    for (const row of await allRows(o.pool)) {
      if (onTopic.has(controlKey(row.kind, row.scope, row.target))) continue;
      await writer.republish(row);
      republished += 1;
    }
    if (republished > 0) o.log.warn({ republished }, 'control rows missing from the topic were republished');
  }

  const reconciled = (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await mirrorAndReconcile();
        return;
      } catch (e) {
        await stopTail();
        if (stopped) break;
        o.log.error({ err: e, attempt }, 'control mirror not started; trying again');
        await sleep(Math.min(500 * attempt, 5_000));
      }
    }
    throw new Error('control plane stopped before the mirror caught up');
  })();
  reconciled.catch(() => {}); // stopped first: an awaiting caller sees the rejection

  return {
    publish,
    change: (req) => writer.change(req),
    limits: () => listLimits(o.pool),
    states: () => listStates(o.pool),
    audit: (q) => listAudit(o.pool, q),
    unknownOrders: () => ({ orders: listUnknown(unknown), caughtUp }),
    async settleUnknown(req) {
      if (!caughtUp) throw new RouterError('UNAVAILABLE', 'the orders of unknown outcome are still being read from control', { retriable: true });
      const u = settleOutcome(unknown, req);
      const c = outcomeControl(u, { controlId: randomUUID(), actor: req.actor, at: (o.clock ?? Date.now)(), hlc: o.hlc() });
      await publishControlWithin(publish, c, o.publishTimeoutMs ?? 5_000);
      unknown = foldOutcome(unknown, c);
      o.log.warn({ actor: req.actor, venue: req.venue, clientOrderId: req.clientOrderId, settle: req.settle }, 'order of unknown outcome settled by an operator');
      return u;
    },
    reconciled,
    async stop() {
      stopped = true;
      await stopTail(); // a mirror still catching up gives up
      await reconciled.catch(() => {});
      await stopTail();
      await stopPublisher?.();
    },
  };
}

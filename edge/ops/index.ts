// Composition of the ops API for the edge process: tokens from the environment (checked at start),
// the control plane (producer, mirror, reconciler), and the routes to register under /ops.
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import { startControlPlane, type RunningControlPlane } from '../../streams/control/plane.ts';
import { createCancelRequester } from '../../connectors/cancelRequest.ts';
import { createOpsAuth, parseOpsTokens, type OpsAuth } from './auth.ts';
import { createOpsCancels } from './cancel.ts';
import { costModelRoutes, createCostModelStore } from './costModel.ts';
import { opsRoutes } from './routes.ts';
import { findToken } from './tokenStore.ts';

export interface Ops {
  plane: RunningControlPlane;
  auth: OpsAuth;
  /** Pass as the edge app's `extraRoutes`. */
  register(app: FastifyInstance): void;
  stop(): Promise<void>;
}

export async function startOps(o: {
  kafka: Kafka; pool: pg.Pool; codec: Codec; controlTopic: string; log: Logger; hlc: () => number; env: NodeJS.ProcessEnv;
  /** The `cancel-requests` topic: POST /ops/cancel and cancelOnHalt exist only with it. */
  cancelTopic?: string;
}): Promise<Ops> {
  // First, so a weak token stops the process before anything is started.
  const tokens = parseOpsTokens(o.env.OPS_TOKENS);
  const auth = createOpsAuth({ tokens, lookup: (digest) => findToken(o.pool, digest) });
  if (tokens.length === 0) o.log.warn('OPS_TOKENS is not set: only tokens stored in the ops_tokens table can use the ops API');
  const plane = await startControlPlane({
    kafka: o.kafka, pool: o.pool, codec: o.codec, topic: o.controlTopic, log: o.log, hlc: o.hlc,
    publishTimeoutMs: o.env.OPS_PUBLISH_TIMEOUT_MS ? Number(o.env.OPS_PUBLISH_TIMEOUT_MS) : undefined,
  });
  const publishTimeoutMs = o.env.OPS_PUBLISH_TIMEOUT_MS ? Number(o.env.OPS_PUBLISH_TIMEOUT_MS) : undefined;
  const costStore = createCostModelStore({ pool: o.pool, publish: plane.publish, log: o.log, hlc: o.hlc, publishTimeoutMs });
  const requester = o.cancelTopic === undefined ? null : createCancelRequester({ kafka: o.kafka, codec: o.codec, topic: o.cancelTopic, hlc: o.hlc });
  await requester?.start();
  const cancels = requester === null ? undefined : createOpsCancels({ pool: o.pool, requester, publishTimeoutMs });
  return {
    plane,
    auth,
    register(app) {
      app.register(opsRoutes({ plane, auth, log: o.log, cancels }), { prefix: '/ops' });
      app.register(costModelRoutes({ store: costStore, auth }), { prefix: '/ops' });
    },
    async stop() {
      await requester?.stop();
      await plane.stop();
    },
  };
}

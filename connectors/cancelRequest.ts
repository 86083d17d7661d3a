// How anything asks for a resting order to be canceled: one CancelRequest record on `cancel-requests`,
// keyed by the order id and partitioned by its account exactly like the order on `orders`, so it
// reaches the connector instance that owns the order (connectors/coPartition.ts) and is handled there,
// once, inside that connector's transactional loop (connectors/cancelHandler.ts). The ops API, a halt
// with cancelOnHalt and a TradingView `cancel` alert all go through `requestCancel`.
//
// Why a topic of its own rather than a flagged record on `orders`: a connector built before cancels
// reads every `orders` record as an order, and Avro resolution would drop a field it does not know, so
// a cancel written there could be read as a second order. A connector that does not know
// `cancel-requests` never subscribes to it: an old reader cannot misread what it never reads.
import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { Codec } from '../schemas/codec.ts';
import type { CancelRequest } from '../schemas/types.ts';
import { accountHeaders } from '../streams/runtime/consume.ts';
import { AccountPartitioner } from '../streams/runtime/kafka.ts';

/** The order to cancel: its id, and what routes the request (account → partition, venue → connector). */
export interface CancelTarget {
  orderId: string;
  account: string;
  venue: string;
  clientOrderId?: string | null;
  symbol?: string | null;
}

/** Who asks and why: `source` is what asked (`ops`, `halt`, `alert`), `actor` the token name or strategy. */
export interface CancelBy { source: string; actor: string; reason?: string | null }

const FIELD = /^[\x21-\x7e]{1,200}$/; // printable ASCII, no spaces: ids as the pipeline mints them

/** Names the first field of a target that cannot be sent; null when it can. */
export function checkTarget(t: CancelTarget): { field: string; message: string } | null {
  for (const f of ['orderId', 'account', 'venue'] as const) {
    if (typeof t[f] !== 'string' || !FIELD.test(t[f])) return { field: f, message: `${f} must be 1 to 200 printable characters without spaces` };
  }
  return null;
}

/** The record itself (pure): ids and clocks come in. */
export function cancelRequestRecord(t: CancelTarget, by: CancelBy, ids: { requestId: string; now: number; hlc: number }): CancelRequest {
  return {
    requestId: ids.requestId, orderId: t.orderId, clientOrderId: t.clientOrderId ?? null, account: t.account, venue: t.venue,
    symbol: t.symbol ?? null, source: by.source, actor: by.actor, reason: by.reason ?? null, requestedAt: ids.now, hlc: ids.hlc,
  };
}

export interface CancelRequestDeps {
  /** Partitions by the account header (AccountPartitioner), acks=all. */
  producer: Producer;
  /** With the `cancel-requests` topic's schema registered (the pipeline's `prepare` does it). */
  codec: Codec;
  /** The `cancel-requests` topic name (topics.cancelRequests). */
  topic: string;
  hlc: () => number;
  clock?: () => number;
}

/**
 * Produces one cancel request per target (acks=all) and returns the records written. Throws before
 * writing anything when a target is malformed. A request for an order that is filled, canceled or
 * unknown changes nothing: the connector refuses it with a reason.
 */
export async function requestCancel(d: CancelRequestDeps, targets: readonly CancelTarget[], by: CancelBy): Promise<CancelRequest[]> {
  for (const t of targets) {
    const issue = checkTarget(t);
    if (issue) throw Object.assign(new Error(`cancel request: ${issue.message}`), { code: 'INVALID_FIELD', field: issue.field });
  }
  if (targets.length === 0) return [];
  const clock = d.clock ?? Date.now;
  const records = targets.map((t) => cancelRequestRecord(t, by, { requestId: randomUUID(), now: clock(), hlc: d.hlc() }));
  await d.producer.send({
    topic: d.topic, acks: -1,
    messages: records.map((r) => ({ key: r.orderId, value: d.codec.encode(d.topic, r), headers: accountHeaders(r.account) })),
  });
  return records;
}

/** A requester that owns its producer: `start`, then `request(targets, by)` from anywhere, `stop`. */
export function createCancelRequester(o: { kafka: Kafka; codec: Codec; topic: string; hlc: () => number; clock?: () => number }) {
  const producer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
  const deps: CancelRequestDeps = { producer, codec: o.codec, topic: o.topic, hlc: o.hlc, clock: o.clock };
  return {
    start: () => producer.connect(),
    request: (targets: readonly CancelTarget[], by: CancelBy) => requestCancel(deps, targets, by),
    stop: () => producer.disconnect(),
  };
}

export type CancelRequester = ReturnType<typeof createCancelRequester>;

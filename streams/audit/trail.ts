// `order-router audit trail <id>`: one order's causal chain, from the topics. Postgres, when reachable,
// resolves an order or execution id to its signal quickly and says which executions it holds (and
// their chain hashes); the topics remain the record.
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import { readToEnd } from '../runtime/consume.ts';
import type { Topics } from '../../schemas/topics.ts';
import { buildTrail, signalIdOf, type Trail, type TrailRecord } from './timeline.ts';

export interface TrailDeps { kafka: Kafka; codec: Codec; topics: Topics; pool: pg.Pool | null }

export async function auditTrail(d: TrailDeps, id: string): Promise<Trail> {
  const { topics, codec } = d;
  let signalId = d.pool ? await signalOf(d.pool, id) : null;
  if (signalId === null) {
    await readToEnd(d.kafka, [topics.orders, topics.ordersShadow, topics.riskDecisions], async (topic, m) => {
      if (signalId !== null || m.value === null) return;
      const r = topic === topics.riskDecisions ? await codec.decode('RiskDecision', m.value) : await codec.decode('Order', m.value);
      signalId = signalIdOf(id, r);
    });
  }
  // Not an order, decision or execution id: take it for a signal id.
  const sid: string = signalId ?? id;
  const records: TrailRecord[] = [];
  const cancels: TrailRecord[] = []; // requests name the order, not the signal: kept once the orders are known
  // A log written before cancels existed has no cancel-requests topic (every process creates it at start).
  const withCancels = await hasTopic(d.kafka, topics.cancelRequests) ? [topics.cancelRequests] : [];
  await readToEnd(d.kafka, [topics.signals, topics.riskDecisions, topics.orders, topics.ordersShadow, topics.executions, ...withCancels], async (topic, m, partition) => {
    if (m.value === null) return;
    const at = { topic, partition, offset: m.offset };
    if (topic === topics.cancelRequests) {
      cancels.push({ kind: 'cancel', at, value: await codec.decode('CancelRequest', m.value) });
    } else if (topic === topics.signals) {
      const value = await codec.decode('Signal', m.value);
      if (value.signalId === sid) records.push({ kind: 'signal', at, value });
    } else if (topic === topics.riskDecisions) {
      const value = await codec.decode('RiskDecision', m.value);
      if (value.signalId === sid) records.push({ kind: 'decision', at, value });
    } else if (topic === topics.orders || topic === topics.ordersShadow) {
      const value = await codec.decode('Order', m.value);
      if (value.signalId === sid) records.push({ kind: 'order', at, value, shadow: topic === topics.ordersShadow });
    } else {
      const value = await codec.decode('ExecutionReport', m.value);
      if (value.signalId === sid) records.push({ kind: 'execution', at, value });
    }
  });
  const orderIds = new Set(records.flatMap((r) => (r.kind === 'order' ? [r.value.orderId] : [])));
  records.push(...cancels.filter((c) => c.kind === 'cancel' && orderIds.has(c.value.orderId)));
  const hashes = d.pool ? await storedHashes(d.pool, sid) : null;
  const annotated = records.map((r): TrailRecord => (r.kind === 'execution' && hashes
    ? { ...r, stored: hashes.has(r.value.executionId) ? { hash: hashes.get(r.value.executionId)! } : null }
    : r));
  return buildTrail(id, records.length > 0 ? sid : null, annotated);
}

async function hasTopic(kafka: Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try { return (await admin.listTopics()).includes(topic); } finally { await admin.disconnect(); }
}

// Postgres is a shortcut and an annotation here, never a requirement: unreachable means "not used".

async function signalOf(pool: pg.Pool, id: string): Promise<string | null> {
  try {
    const { rows } = await pool.query<{ signal_id: string }>(
      'SELECT signal_id FROM executions WHERE signal_id = $1 OR order_id = $1 OR execution_id = $1 LIMIT 1', [id]);
    return rows[0]?.signal_id ?? null;
  } catch {
    return null;
  }
}

async function storedHashes(pool: pg.Pool, signalId: string): Promise<Map<string, string | null> | null> {
  try {
    const { rows } = await pool.query<{ execution_id: string; hash: string | null }>(
      'SELECT execution_id, hash FROM executions WHERE signal_id = $1', [signalId]);
    return new Map(rows.map((r) => [r.execution_id, r.hash]));
  } catch {
    return null;
  }
}

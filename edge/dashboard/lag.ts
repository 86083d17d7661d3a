// Consumer lag per processor: each partition's high watermark against the group's committed offset
// (from Kafka for processors that commit there, from Postgres `consumer_offsets` for the projection,
// whose offsets are committed with its rows). The arithmetic is pure; `readLag` does the I/O.
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { DATASETS } from '../../analytics/columns.ts';
import type { Topics } from '../../schemas/topics.ts';
import { readProjectedOffsets } from './queries.ts';
import { topicEnds } from '../../streams/runtime/consume.ts';

export interface ConsumerSpec { component: string; groupId: string; topic: string; offsets: 'kafka' | 'postgres' }

export interface PartitionLag { partition: number; committed: string | null; high: string; lag: string }

export interface LagView { component: string; groupId: string; topic: string; lag: number; partitions: PartitionLag[] }

/** The pipeline's processors and what they consume (group ids as edge/main/pipeline.ts names them). */
export function consumerSpecs(topics: Topics, group: (name: string) => string, venues: readonly string[]): ConsumerSpec[] {
  return [
    { component: 'decide', groupId: group('decide'), topic: topics.signals, offsets: 'kafka' },
    { component: 'brackets', groupId: group('brackets'), topic: topics.executions, offsets: 'kafka' },
    ...venues.map((v): ConsumerSpec => ({ component: `connector-${v}`, groupId: group(`connector-${v}`), topic: topics.orders, offsets: 'kafka' })),
    { component: 'projection', groupId: group('projection'), topic: topics.executions, offsets: 'postgres' },
    // The Parquet sink's manifests hold its position too; the Kafka commit follows each file.
    ...DATASETS.map((d): ConsumerSpec => ({ component: 'sink', groupId: group('analytics-sink'), topic: topics[d.topic], offsets: 'kafka' })),
  ];
}

/**
 * Offsets behind the high watermark. A group with no commit yet counts from the log start. On a
 * topic written in transactions each commit marker takes an offset, so a caught-up consumer of such a
 * topic may show 1 per partition: the figure is an upper bound, exact on non-transactional topics.
 */
export function lagOf(spec: ConsumerSpec, watermarks: readonly { partition: number; high: string; low: string }[], committed: ReadonlyMap<number, bigint>): LagView {
  let total = 0n;
  const partitions = watermarks.map((w) => {
    const high = BigInt(w.high);
    const c = committed.get(w.partition);
    const from = c === undefined || c < BigInt(w.low) ? BigInt(w.low) : c;
    const lag = high > from ? high - from : 0n;
    total += lag;
    return { partition: w.partition, committed: c === undefined ? null : c.toString(), high: high.toString(), lag: lag.toString() };
  }).sort((a, b) => a.partition - b.partition);
  return { component: spec.component, groupId: spec.groupId, topic: spec.topic, lag: Number(total), partitions };
}

export async function readLag(admin: Admin, pool: pg.Pool, specs: readonly ConsumerSpec[]): Promise<LagView[]> {
  const marks = new Map<string, Awaited<ReturnType<Admin['fetchTopicOffsets']>>>();
  for (const t of new Set(specs.map((s) => s.topic))) marks.set(t, await topicEnds(admin, t));
  const out: LagView[] = [];
  for (const spec of specs) {
    let committed: Map<number, bigint>;
    if (spec.offsets === 'postgres') {
      committed = await readProjectedOffsets(pool, spec.groupId, spec.topic);
    } else {
      const [entry] = await admin.fetchOffsets({ groupId: spec.groupId, topics: [spec.topic] });
      // -1: the group has no commit on that partition.
      committed = new Map((entry?.partitions ?? []).filter((p) => p.offset !== '-1').map((p) => [p.partition, BigInt(p.offset)]));
    }
    out.push(lagOf(spec, marks.get(spec.topic) ?? [], committed));
  }
  return out;
}

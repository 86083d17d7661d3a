// The analytics sink: executions, orders, risk decisions, signals and quotes → Parquet files by day, with a
// manifest per topic partition. Exactly-once without Kafka transactions: the manifest is the record of
// what is written (file renamed, then manifest), offsets are committed to Kafka only after it, and on
// (re)start a partition is reconciled with its manifest and re-reading starts from the manifest's
// nextOffset, whatever Kafka's committed offset says.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import type { ExecutionReport } from '../../schemas/types.ts';
import { createMutex } from '../../streams/runtime/consume.ts';
import { removePredecessors } from '../../streams/runtime/membership.ts';
import type { Topics } from '../../schemas/topics.ts';
import { DATASETS, executionsDataset, quotesDataset, type Dataset, type RowContext } from '../columns.ts';
import type { AnalyticsConfig } from '../config.ts';
import { recordWrite, type Manifest } from './manifest.ts';
import { createParquetWriter, type ParquetWriter } from './parquet.ts';
import { createPnlFold, type PnlFold } from '../pnlFold.ts';
import { compactPartition, reconcilePartition, saveManifest, writeBatch, type Fault } from './store.ts';

export interface AnalyticsSinkOptions {
  kafka: Kafka;
  codec: Codec;
  log: Logger;
  topics: Topics;
  groupId: string;
  /** This instance's Kafka client id: members of the group carrying it are its dead predecessors, removed before joining (membership.ts). */
  instanceClientId?: string;
  config: Pick<AnalyticsConfig, 'ANALYTICS_DIR' | 'ANALYTICS_FLUSH_MS' | 'ANALYTICS_COMPACT_EVERY_MS' | 'ANALYTICS_SMALL_FILE_ROWS' | 'ANALYTICS_COMPACT_MIN_FILES'>
    & Partial<Pick<AnalyticsConfig, 'ANALYTICS_QUOTES_HOLD_MS'>>;
  /** Fault injection for tests: throwing here is a crash at that point. */
  fault?: Fault;
  /** The datasets this sink writes; default all of DATASETS. */
  datasets?: readonly Dataset[];
}

export interface AnalyticsSink {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs a compaction pass now (also runs every ANALYTICS_COMPACT_EVERY_MS). */
  compactNow(): Promise<void>;
}

interface PartitionState {
  dataset: Dataset;
  manifest: Manifest;
  /** Executions only: the position fold, rebuilt from this partition's files on open. */
  fold: PnlFold | null;
  /** Executions only: ids of the recent position-moving rows, so a fact written twice to `executions` is stored once. */
  recent: RecentIds | null;
  /** Whether the first batch since opening has been checked against the manifest's nextOffset. */
  positioned: boolean;
  /** Quotes only: rows read and not yet written (nothing is committed for them), since `heldSince`, up to `heldNext`. */
  held: RowContext<unknown>[];
  heldSince: number;
  heldNext: number;
}

/** Rows held at most, whatever the hold time: a file's worth. */
const MAX_HELD = 50_000;

/**
 * The last `cap` execution ids of a partition, oldest evicted first. `executions` may hold one fact twice
 * (two connector instances in a handover both recording it, with the same deterministic executionId);
 * such repeats arrive close together, and the sink stores the first only, as the projection does.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly cap: number;
  constructor(cap = 200_000) { this.cap = cap; }
  /** True the first time an id is offered (and remembers it), false for a repeat. */
  offer(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.cap) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}

/** Types that move a position: what the fold reads, and what the sink stores once per executionId. */
const MOVES = new Set(['PARTIAL_FILL', 'FILL', 'CORRECTION', 'BUST']);

/** Rebuilds the position fold from a partition's own files: the rows the fold has seen, in log order. */
async function rebuildFold(writer: ParquetWriter, root: string, m: Manifest, log: Logger, recent: RecentIds): Promise<PnlFold> {
  const fold = createPnlFold({ onRefused: (e) => log.warn({ executionId: e.executionId }, 'amendment without refExecutionId: no P&L effect') });
  const files = m.files.map((f) => join(root, f.path));
  let chunk: ExecutionReport[] = [];
  // ACK, REJECT and CANCEL never move a position; skipping them keeps a rebuild cheap.
  const n = await writer.readRecords(executionsDataset as Dataset, files, (r) => {
    chunk.push(r as unknown as ExecutionReport);
    recent.offer((r as unknown as ExecutionReport).executionId);
    if (chunk.length >= 10_000) { fold.applyBatch(chunk); chunk = []; }
  }, "type NOT IN ('ACK', 'REJECT', 'CANCEL')");
  fold.applyBatch(chunk);
  if (n > 0) log.info({ partition: m.partition, events: n }, 'position fold rebuilt from Parquet');
  return fold;
}

export function createAnalyticsSink(o: AnalyticsSinkOptions): AnalyticsSink {
  const root = o.config.ANALYTICS_DIR;
  const byTopic = new Map((o.datasets ?? DATASETS).map((d) => [o.topics[d.topic], d]));
  // One lock per dataset partition: partitions are written side by side (the writer has lanes), while a
  // partition's batches and its compaction never overlap.
  const locks = new Map<string, ReturnType<typeof createMutex>>();
  const lockFor = (key: string) => {
    let l = locks.get(key);
    if (!l) locks.set(key, (l = createMutex()));
    return l;
  };
  const parts = new Map<string, PartitionState>();
  let writer: ParquetWriter | null = null;
  let consumer: Consumer | null = null;
  let timer: NodeJS.Timeout | null = null;
  let holdTimer: NodeJS.Timeout | null = null;
  const holdMs = o.config.ANALYTICS_QUOTES_HOLD_MS ?? 0;
  let rejoined = false;
  let failures = 0;
  const stopping = new AbortController();

  async function open(dataset: Dataset, partition: number): Promise<PartitionState> {
    const manifest = await reconcilePartition(root, dataset.name, partition, o.log);
    const recent = dataset === executionsDataset ? new RecentIds() : null;
    const fold = recent ? await rebuildFold(writer!, root, manifest, o.log, recent) : null;
    const state: PartitionState = { dataset, manifest, fold, recent, positioned: false, held: [], heldSince: 0, heldNext: manifest.nextOffset };
    parts.set(`${dataset.name}:${partition}`, state);
    return state;
  }

  /** Writes what is new in `messages`; returns the offset to commit, or null when it moved the consumer instead. */
  async function handle(c: Consumer, topic: string, partition: number, messages: KafkaMessage[]): Promise<number | null> {
    if (rejoined) { parts.clear(); rejoined = false; }
    const dataset = byTopic.get(topic)!;
    const p = parts.get(`${dataset.name}:${partition}`) ?? await open(dataset, partition);
    if (!p.positioned) {
      p.positioned = true;
      // Kafka's committed offset can be past the manifest (files lost, data folder wiped): go back once.
      // Once only, because offsets also skip legitimately (transaction markers, compaction).
      if (Number(messages[0].offset) > p.manifest.nextOffset) {
        c.seek({ topic, partition, offset: String(p.manifest.nextOffset) });
        return null;
      }
    }
    const rows: RowContext<unknown>[] = [];
    const from = Math.max(p.manifest.nextOffset, p.heldNext);
    for (const m of messages) {
      const offset = Number(m.offset);
      if (offset < from || m.value === null) continue; // already in a file or held / tombstone
      try {
        const rec = await o.codec.decode(dataset.record, m.value);
        if (p.recent) {
          const e = rec as ExecutionReport;
          if (MOVES.has(e.type) && !p.recent.offer(e.executionId)) {
            o.log.warn({ executionId: e.executionId, partition, offset }, 'execution recorded twice on executions; stored once');
            continue;
          }
        }
        rows.push({ rec, partition, offset, pnl: null });
      } catch (e) {
        o.log.error({ err: e, topic, partition, offset }, 'undecodable record left out of Parquet');
      }
    }
    if (p.fold) {
      const effects = p.fold.applyBatch(rows.map((r) => r.rec as ExecutionReport));
      rows.forEach((r, i) => { r.pnl = effects[i]; });
    }
    const next = Number(messages[messages.length - 1].offset) + 1;
    if (next <= p.manifest.nextOffset) return p.manifest.nextOffset;
    if (dataset === quotesDataset && holdMs > 0) {
      if (p.held.length === 0) p.heldSince = Date.now();
      p.held.push(...rows);
      p.heldNext = Math.max(p.heldNext, next);
      if (p.held.length < MAX_HELD && Date.now() - p.heldSince < holdMs) return null;
      return writeHeld(p);
    }
    await writeRows(p, rows, next);
    return next;
  }

  /** Writes rows up to `next` (a manifest only, when all were tombstones or already written). */
  async function writeRows(p: PartitionState, rows: RowContext<unknown>[], next: number): Promise<void> {
    if (rows.length > 0) {
      p.manifest = await writeBatch({ root, writer: writer!, dataset: p.dataset, manifest: p.manifest, rows, nextOffset: next, fault: o.fault });
    } else {
      p.manifest = recordWrite(p.manifest, [], next);
      await saveManifest(root, p.manifest);
    }
  }

  /** Writes a partition's held rows and returns the offset to commit. */
  async function writeHeld(p: PartitionState): Promise<number> {
    const rows = p.held;
    p.held = [];
    await writeRows(p, rows, p.heldNext);
    return p.heldNext;
  }

  /** Writes and commits what a quiet partition has held past the hold time (no new batch would). */
  async function flushHeld(c: Consumer): Promise<void> {
    if (rejoined) return; // a rebalance may have taken these partitions: the next batch reopens what is ours
    for (const [key, p] of [...parts]) {
      if (p.held.length === 0 || Date.now() - p.heldSince < holdMs) continue;
      const topic = o.topics[p.dataset.topic];
      await lockFor(key)(async () => {
        if (parts.get(key) !== p || p.held.length === 0) return;
        try {
          const commit = await writeHeld(p);
          await c.commitOffsets([{ topic, partition: p.manifest.partition, offset: String(commit) }])
            .catch((e: unknown) => o.log.warn({ err: e, topic }, 'offset commit failed; the manifest keeps the position'));
        } catch (e) {
          // Reopened from disk at the next batch; the rows are read again from the manifest's offset.
          o.log.error({ err: e, partition: key }, 'writing held quotes failed; the partition is reconciled before its next batch');
          parts.delete(key);
          c.seek({ topic, partition: p.manifest.partition, offset: String(p.manifest.nextOffset) });
        }
      });
    }
  }

  async function compactAll(): Promise<void> {
    for (const key of [...parts.keys()]) {
      await lockFor(key)(async () => {
        const p = parts.get(key);
        if (!p || !writer) return;
        try {
          p.manifest = await compactPartition({
            root, writer, manifest: p.manifest, log: o.log,
            smallRows: o.config.ANALYTICS_SMALL_FILE_ROWS, minFiles: o.config.ANALYTICS_COMPACT_MIN_FILES,
          });
        } catch (e) {
          o.log.error({ err: e, partition: key }, 'compaction failed; the partition is reconciled before its next batch');
          parts.delete(key);
        }
      });
    }
  }

  return {
    async start() {
      writer = await createParquetWriter();
      const cons = o.kafka.consumer({
        groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: o.config.ANALYTICS_FLUSH_MS, minBytes: 1 << 20,
        maxBytesPerPartition: 16 << 20, sessionTimeout: 30_000, heartbeatInterval: 3000,
      });
      consumer = cons;
      cons.on(cons.events.GROUP_JOIN, () => { rejoined = true; });
      if (o.instanceClientId !== undefined) await removePredecessors(o.kafka, o.groupId, o.instanceClientId, o.log);
      await cons.connect();
      await cons.subscribe({ topics: [...byTopic.keys()], fromBeginning: true });
      await cons.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          const { topic, partition } = batch;
          try {
            const commit = await lockFor(`${byTopic.get(topic)!.name}:${partition}`)(() => handle(cons, topic, partition, batch.messages));
            if (commit === null) return;
            await o.fault?.('committing', { dataset: byTopic.get(topic)!.name, partition });
            failures = 0;
            // The manifest already covers these offsets; a failed commit only means re-reading and skipping.
            await cons.commitOffsets([{ topic, partition, offset: String(commit) }])
              .catch((e: unknown) => o.log.warn({ err: e, topic, partition }, 'offset commit failed; the manifest keeps the position'));
          } catch (e) {
            // Memory may be ahead of disk (a fold fed rows that were never written): reopen from disk and
            // re-read from the last manifest we know, after a pause that grows with repeated failures.
            const p = parts.get(`${byTopic.get(topic)!.name}:${partition}`);
            parts.delete(`${byTopic.get(topic)!.name}:${partition}`);
            failures++;
            o.log.error({ err: e, topic, partition }, 'analytics batch failed; reconciling and re-reading');
            cons.seek({ topic, partition, offset: String(p?.manifest.nextOffset ?? batch.messages[0].offset) });
            await sleep(Math.min(100 * 2 ** Math.min(failures, 7), 10_000), undefined, { signal: stopping.signal }).catch(() => {});
          }
          await heartbeat();
        },
      });
      let compacting: Promise<void> | null = null;
      timer = setInterval(() => { compacting ??= compactAll().finally(() => { compacting = null; }); }, o.config.ANALYTICS_COMPACT_EVERY_MS);
      timer.unref();
      if (holdMs > 0) {
        let flushing: Promise<void> | null = null;
        holdTimer = setInterval(() => { flushing ??= flushHeld(cons).finally(() => { flushing = null; }); }, holdMs);
        holdTimer.unref();
      }
    },
    async stop() {
      stopping.abort();
      if (timer) clearInterval(timer);
      if (holdTimer) clearInterval(holdTimer);
      await consumer?.disconnect();
      await Promise.all([...locks.values()].map((l) => l(async () => {})));
      writer?.close();
      writer = null;
    },
    compactNow: compactAll,
  };
}

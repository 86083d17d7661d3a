// What the edge does with a valid signal: de-duplicate by idempotency id (in flight here, recorded in
// Postgres), produce to `signals` with acks=all, and only then answer 202.
// Requests are grouped: everything that arrives while a group is being written goes into the next
// one, so under load one SQL round trip and one Kafka produce serve many alerts, and at low load a
// lone alert waits for nobody.
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Codec } from '../schemas/codec.ts';
import type { Signal } from '../schemas/types.ts';
import { accountHeaders } from '../streams/runtime/consume.ts';
import { RouterError } from '../schemas/errors.ts';

export interface AcceptDeps { producer: Producer; pool: pg.Pool; codec: Codec; topic: string; maxGroup?: number; maxGroupsInFlight?: number }

interface Waiting { signal: Signal; deadline: number; resolve: (r: { duplicate: boolean }) => void; reject: (e: unknown) => void }

/** What the edge's readiness needs to know: did the last write to Kafka succeed? */
export interface AcceptHealth {
  /** Start of the latest produce that failed. */
  lastFailureAt: number;
  /** When a produce was last acknowledged. */
  lastSuccessAt: number;
  /**
   * Start of the oldest produce still waiting for Kafka's acknowledgement among those begun after the last
   * acknowledgement; 0 when none is. One begun before it says nothing about Kafka now, and must not hide
   * the ones begun later: a produce left unanswered when the broker went down, followed by a success, then
   * by an outage, kept `/readyz` at 200 for the whole outage (`test/reliability/infra.test.ts`).
   */
  oldestWriteAt: number;
}

/** How often produced signals' rows are marked in Postgres (one UPDATE for all of them). */
const MARK_EVERY_MS = 50;

const unavailable = (what: string, cause: unknown) => new RouterError('UNAVAILABLE', what, { retriable: true, cause });

export function createAccept(d: AcceptDeps) {
  const maxGroup = d.maxGroup ?? 500;
  const maxInFlight = d.maxGroupsInFlight ?? 4;
  const inFlight = new Map<string, Promise<{ duplicate: boolean }>>();
  let queue: Waiting[] = [];
  let writing = 0;
  let scheduled = false;
  const writes = new Set<{ startedAt: number }>(); // the produces in flight
  const health = {
    lastFailureAt: 0, lastSuccessAt: 0,
    get oldestWriteAt() {
      let m = 0;
      for (const w of writes) if (w.startedAt >= health.lastSuccessAt && (m === 0 || w.startedAt < m)) m = w.startedAt;
      return m;
    },
  };

  async function writeGroup(all: Waiting[]): Promise<void> {
    // A request already answered 503 (its deadline passed while it queued) is not written: its sender
    // was told to try again, and nothing of it should reach `signals` in the meantime.
    const now = Date.now();
    const group = all.filter((w) => w.deadline > now);
    for (const w of all) if (w.deadline <= now) w.reject(unavailable('accept timed out before the signal was written', null));
    if (group.length === 0) return;
    // One round trip: insert the new ids, and learn which earlier attempts already reached Kafka.
    const { rows } = await d.pool.query<{ signal_id: string; produced: boolean }>(
      `INSERT INTO edge_signals (signal_id, account_id, strategy)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (signal_id) DO UPDATE SET signal_id = EXCLUDED.signal_id
       RETURNING signal_id, produced`,
      [group.map((w) => w.signal.signalId), group.map((w) => w.signal.account), group.map((w) => w.signal.strategy)],
    ).catch((e: unknown) => { throw unavailable('signal store unavailable', e); });
    const produced = new Set(rows.filter((r) => r.produced).map((r) => r.signal_id));
    // New, or an earlier attempt failed before its 202: produce.
    const fresh = group.filter((w) => !produced.has(w.signal.signalId));
    if (fresh.length > 0) {
      const write = { startedAt: Date.now() };
      writes.add(write);
      // A failure counts from when its produce began: one begun during an outage and failing after a
      // later produce succeeded says nothing about Kafka now.
      await d.producer.send({
        topic: d.topic, acks: -1,
        messages: fresh.map((w) => ({ key: w.signal.signalId, value: d.codec.encode(d.topic, w.signal), headers: accountHeaders(w.signal.account) })),
      }).catch((e: unknown) => { health.lastFailureAt = Math.max(health.lastFailureAt, write.startedAt); throw unavailable('Kafka did not acknowledge the signal', e); })
        .finally(() => writes.delete(write));
      health.lastSuccessAt = Date.now();
    }
    for (const w of group) w.resolve({ duplicate: produced.has(w.signal.signalId) });
    for (const w of fresh) unmarked.add(w.signal.signalId);
    if (fresh.length > 0) markTimer ??= setTimeout(() => { void markProduced(); }, MARK_EVERY_MS);
  }

  // Rows are marked produced after the 202, off its path, in one UPDATE per MARK_EVERY_MS for all the
  // groups written meanwhile. A repeat before its mark is answered as a duplicate (see accept); one after
  // a mark lost with the process is produced again, which the compacted topic and decide's dedupe absorb.
  const unmarked = new Set<string>(); // produced and answered 202, their rows not yet marked produced
  let markTimer: NodeJS.Timeout | null = null;
  async function markProduced(): Promise<void> {
    const ids = [...unmarked];
    await d.pool.query('UPDATE edge_signals SET produced = true WHERE signal_id = ANY($1::text[])', [ids])
      .catch(() => { /* the next attempt of any of these ids produces it again: harmless */ })
      .finally(() => {
        for (const id of ids) unmarked.delete(id);
        markTimer = unmarked.size > 0 ? setTimeout(() => { void markProduced(); }, MARK_EVERY_MS) : null;
      });
  }

  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && writing < maxInFlight) {
      const group = queue.slice(0, maxGroup);
      queue = queue.slice(group.length);
      writing++;
      writeGroup(group)
        .catch((e: unknown) => { for (const w of group) w.reject(e); }) // a settled promise ignores a second reject
        .finally(() => { writing--; if (queue.length > 0) schedule(); });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  }

  /** `deadline` (epoch ms): past it, a signal still queued is refused instead of written. */
  function accept(signal: Signal, deadline = Number.POSITIVE_INFINITY): Promise<{ duplicate: boolean }> {
    if (unmarked.has(signal.signalId)) return Promise.resolve({ duplicate: true });
    const running = inFlight.get(signal.signalId);
    if (running) return running.then(() => ({ duplicate: true }));
    const p = new Promise<{ duplicate: boolean }>((resolve, reject) => { queue.push({ signal, deadline, resolve, reject }); })
      .finally(() => inFlight.delete(signal.signalId));
    inFlight.set(signal.signalId, p);
    schedule();
    return p;
  }
  return Object.assign(accept, { health: (): Readonly<AcceptHealth> => health });
}

/**
 * Whether Kafka acknowledges the edge's writes: not while the oldest produce has waited longer than
 * `stallMs` with nothing acknowledged since it began, nor after a failed produce until a produce or a
 * probe (`probedOkAt`, when the last good one began) succeeds after it.
 */
export function kafkaReady(h: Readonly<AcceptHealth>, probedOkAt: number, now: number, stallMs: number): boolean {
  const stalled = h.oldestWriteAt !== 0 && now - h.oldestWriteAt > stallMs && h.lastSuccessAt < h.oldestWriteAt;
  return !stalled && h.lastFailureAt <= Math.max(h.lastSuccessAt, probedOkAt);
}

/**
 * The edge's view of Kafka for `/readyz`: down while a produce has waited longer than `stallMs` for its
 * acknowledgement, and from a failed produce until a produce succeeds or a probe (the `signals`
 * partitions' offsets, which need their leaders) answers; probed every `everyMs` while down.
 */
export function startKafkaProbe(kafka: Kafka, topic: string, health: () => Readonly<AcceptHealth>, log: Logger, stallMs: number, everyMs = 1_000) {
  let probedOkAt = 0;
  let probing = false;
  const up = () => kafkaReady(health(), probedOkAt, Date.now(), stallMs);
  const timer = setInterval(() => {
    if (up() || probing) return;
    probing = true;
    const admin = kafka.admin();
    const startedAt = Date.now();
    const attempt = admin.connect().then(() => admin.fetchTopicOffsets(topic));
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('probe timed out')), everyMs * 2).unref());
    Promise.race([attempt, timeout])
      .then(() => { probedOkAt = startedAt; log.info('Kafka answers again: edge ready'); })
      .catch(() => {})
      .finally(() => { probing = false; void admin.disconnect().catch(() => {}); });
  }, everyMs);
  timer.unref();
  return { up, stop: async () => { clearInterval(timer); } };
}

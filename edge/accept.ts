// What the edge does with a valid signal: de-duplicate by idempotency id (in flight here, recorded in
// Postgres), produce to `signals` with acks=all, and only then answer 202.
// Requests are grouped: everything that arrives while a group is being written goes into the next
// one, so under load one SQL round trip and one Kafka produce serve many alerts, and at low load a
// lone alert waits for nobody.
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { Codec } from '../schemas/codec.ts';
import type { Signal } from '../schemas/types.ts';
import { accountHeaders } from '../streams/runtime/consume.ts';
import { RouterError } from '../streams/runtime/errors.ts';

export interface AcceptDeps { producer: Producer; pool: pg.Pool; codec: Codec; topic: string; maxGroup?: number; maxGroupsInFlight?: number }

interface Waiting { signal: Signal; resolve: (r: { duplicate: boolean }) => void; reject: (e: unknown) => void }

const unavailable = (what: string, cause: unknown) => new RouterError('UNAVAILABLE', what, { retriable: true, cause });

export function createAccept(d: AcceptDeps) {
  const maxGroup = d.maxGroup ?? 500;
  const maxInFlight = d.maxGroupsInFlight ?? 4;
  const inFlight = new Map<string, Promise<{ duplicate: boolean }>>();
  let queue: Waiting[] = [];
  let writing = 0;
  let scheduled = false;

  async function writeGroup(group: Waiting[]): Promise<void> {
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
      await d.producer.send({
        topic: d.topic, acks: -1,
        messages: fresh.map((w) => ({ key: w.signal.signalId, value: d.codec.encode(d.topic, w.signal), headers: accountHeaders(w.signal.account) })),
      }).catch((e: unknown) => { throw unavailable('Kafka did not acknowledge the signal', e); });
      await d.pool.query('UPDATE edge_signals SET produced = true WHERE signal_id = ANY($1::text[])', [fresh.map((w) => w.signal.signalId)])
        .catch((e: unknown) => { throw unavailable('signal store unavailable', e); });
    }
    for (const w of group) w.resolve({ duplicate: produced.has(w.signal.signalId) });
  }

  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && writing < maxInFlight) {
      const group = queue.slice(0, maxGroup);
      queue = queue.slice(group.length);
      writing++;
      writeGroup(group)
        .catch((e: unknown) => { for (const w of group) w.reject(e); })
        .finally(() => { writing--; if (queue.length > 0) schedule(); });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  }

  return function accept(signal: Signal): Promise<{ duplicate: boolean }> {
    const running = inFlight.get(signal.signalId);
    if (running) return running.then(() => ({ duplicate: true }));
    const p = new Promise<{ duplicate: boolean }>((resolve, reject) => { queue.push({ signal, resolve, reject }); })
      .finally(() => inFlight.delete(signal.signalId));
    inFlight.set(signal.signalId, p);
    schedule();
    return p;
  };
}

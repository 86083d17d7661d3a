// What the edge does with a valid signal: de-duplicate by idempotency id (in flight here, recorded in
// Postgres), produce to `signals` with acks=all, and only then answer 202.
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { Codec } from '../schemas/codec.ts';
import type { Signal } from '../schemas/types.ts';
import { accountHeaders } from '../streams/runtime/consume.ts';
import { RouterError } from '../streams/runtime/errors.ts';

export interface AcceptDeps { producer: Producer; pool: pg.Pool; codec: Codec; topic: string }

export function createAccept(d: AcceptDeps) {
  const inFlight = new Map<string, Promise<{ duplicate: boolean }>>();

  async function acceptOnce(signal: Signal): Promise<{ duplicate: boolean }> {
    // One round trip: insert, or see whether an earlier attempt already reached Kafka.
    const { rows } = await d.pool.query<{ produced: boolean; inserted: boolean }>(
      `INSERT INTO edge_signals (signal_id, account_id, strategy) VALUES ($1, $2, $3)
       ON CONFLICT (signal_id) DO UPDATE SET signal_id = EXCLUDED.signal_id
       RETURNING produced, (xmax = 0) AS inserted`,
      [signal.signalId, signal.account, signal.strategy],
    ).catch((e: unknown) => { throw new RouterError('UNAVAILABLE', 'signal store unavailable', { retriable: true, cause: e }); });
    if (rows[0].produced) return { duplicate: true };
    // Not yet acknowledged by Kafka (new, or an earlier attempt failed before the 202): produce.
    try {
      await d.producer.send({
        topic: d.topic, acks: -1,
        messages: [{ key: signal.signalId, value: d.codec.encode(d.topic, signal), headers: accountHeaders(signal.account) }],
      });
    } catch (e) {
      throw new RouterError('UNAVAILABLE', 'Kafka did not acknowledge the signal', { retriable: true, cause: e });
    }
    await d.pool.query('UPDATE edge_signals SET produced = true WHERE signal_id = $1', [signal.signalId])
      .catch((e: unknown) => { throw new RouterError('UNAVAILABLE', 'signal store unavailable', { retriable: true, cause: e }); });
    return { duplicate: false };
  }

  return function accept(signal: Signal): Promise<{ duplicate: boolean }> {
    const running = inFlight.get(signal.signalId);
    if (running) return running.then(() => ({ duplicate: true }));
    const p = acceptOnce(signal).finally(() => inFlight.delete(signal.signalId));
    inFlight.set(signal.signalId, p);
    return p;
  };
}

// The one way a record is written to `control`, whoever writes it (the ops API, the cost model,
// decide's loss breaches inside its transaction, a connector's venue state, its orders of unknown
// outcome): keyed `<kind>|<scope>|<target>` (ORDER_OUTCOME: one key per order, `keyOf`) so that compaction keeps the latest per key, and partitioned by its target
// like every record of an account. The edge process writes through one producer (`startControlPublisher`),
// shared by the control plane and the cost model.
import type { Kafka, Producer } from 'kafkajs';
import type { Codec } from '../../schemas/codec.ts';
import { keyOf } from '../../schemas/controlKey.ts';
import type { Control } from '../../schemas/types.ts';
import { accountHeaders, type OutRecord } from '../runtime/consume.ts';
import { AccountPartitioner } from '../runtime/kafka.ts';

/** Produces one record with acks=all and returns its offset. */
export type Publish = (control: Control) => Promise<string>;

/** The record for `control`, as a transaction's output (decide) or a message (`controlMessage`). */
export const controlRecord = (codec: Codec, topic: string, c: Control): OutRecord => ({
  topic, key: keyOf(c), value: codec.encode(topic, c), account: c.target,
});

/** The same record as a kafkajs message. */
export function controlMessage(codec: Codec, topic: string, c: Control) {
  const r = controlRecord(codec, topic, c);
  return { key: r.key, value: r.value, headers: accountHeaders(r.account) };
}

/** A producer for `control` (acks=all, idempotent, one request in flight so records keep their order). */
export async function startControlPublisher(kafka: Kafka, codec: Codec, topic: string): Promise<{ publish: Publish; stop(): Promise<void> }> {
  const p: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
  await p.connect();
  return {
    async publish(control) {
      const [meta] = await p.send({ topic, acks: -1, messages: [controlMessage(codec, topic, control)] });
      return String(meta.baseOffset ?? meta.offset);
    },
    stop: () => p.disconnect(),
  };
}

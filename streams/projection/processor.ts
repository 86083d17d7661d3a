// Position projection: `executions` → Postgres. The event row, the folded position and the consumer
// offset commit in one SQL transaction, so a crash or a Postgres restart never loses or doubles one.
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import type { ExecutionReport } from '../../schemas/types.ts';
import { evolve, positionKey, positionRow, type PositionState } from '../positions/fold.ts';
import { EXECUTION_COLUMNS, executionValues, fromExecutionRow, type ExecutionRow } from './rows.ts';

export interface ProjectionOptions { kafka: Kafka; pool: pg.Pool; codec: Codec; log: Logger; topic: string; groupId: string }

const insertSql = `INSERT INTO executions (${EXECUTION_COLUMNS.join(', ')}) VALUES (${EXECUTION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`;
const upsertSql = `INSERT INTO positions (account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
  ON CONFLICT (account_id, symbol, venue) DO UPDATE SET quantity = EXCLUDED.quantity, avg_price = EXCLUDED.avg_price,
    realized_pnl = EXCLUDED.realized_pnl, fees = EXCLUDED.fees, fill_count = EXCLUDED.fill_count, updated_at = now()`;

export function createProjection(o: ProjectionOptions) {
  const consumer = o.kafka.consumer({ groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: 20, sessionTimeout: 6000, heartbeatInterval: 1000 });
  // Folded states by position key, kept to apply later corrections; loaded from the table on first use.
  const cache = new Map<string, PositionState | undefined>();

  async function load(client: pg.PoolClient, e: ExecutionReport): Promise<PositionState | undefined> {
    const key = positionKey(e);
    if (cache.has(key)) return cache.get(key);
    const { rows } = await client.query<ExecutionRow>(
      'SELECT * FROM executions WHERE account_id = $1 AND symbol = $2 AND venue = $3 ORDER BY kafka_partition, kafka_offset',
      [e.account, e.symbol, e.venue],
    );
    let s: PositionState | undefined;
    for (const r of rows) s = evolve(s, fromExecutionRow(r));
    return s;
  }

  async function applyBatch(topic: string, partition: number, messages: KafkaMessage[]): Promise<number> {
    const decoded = await Promise.all(messages.map((m) => o.codec.decode('ExecutionReport', m.value!)));
    const client = await o.pool.connect();
    const staged = new Map<string, PositionState | undefined>();
    let applied = 0;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ next_offset: string }>(
        'SELECT next_offset FROM consumer_offsets WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE',
        [o.groupId, topic, partition],
      );
      const from = rows.length > 0 ? BigInt(rows[0].next_offset) : 0n;
      for (let i = 0; i < messages.length; i++) {
        const offset = messages[i].offset;
        if (BigInt(offset) < from) continue; // already in Postgres: re-delivered after a crash
        const e = decoded[i];
        const ins = await client.query(insertSql, executionValues(e, partition, offset));
        if (ins.rowCount === 0) continue;
        const key = positionKey(e);
        const before = staged.has(key) ? staged.get(key) : await load(client, e);
        const after = evolve(before, e);
        staged.set(key, after);
        applied++;
      }
      for (const s of staged.values()) {
        if (s === undefined) continue;
        const r = positionRow(s);
        await client.query(upsertSql, [r.account_id, r.symbol, r.venue, r.quantity, r.avg_price, r.realized_pnl, r.fees, r.fill_count]);
      }
      const next = (BigInt(messages[messages.length - 1].offset) + 1n).toString();
      await client.query(
        `INSERT INTO consumer_offsets (consumer, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (consumer, topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset)`,
        [o.groupId, topic, partition, next],
      );
      await client.query('COMMIT');
      for (const [k, v] of staged) cache.set(k, v);
      return applied;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  return {
    consumer,
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch, heartbeat }) => {
          if (batch.messages.length === 0) return;
          const n = await applyBatch(batch.topic, batch.partition, batch.messages);
          o.log.debug({ partition: batch.partition, applied: n }, 'projection batch');
          await heartbeat();
        },
      });
    },
    stop: () => consumer.disconnect(),
  };
}

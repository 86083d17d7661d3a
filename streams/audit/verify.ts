// `order-router audit verify`: rebuild from the `executions` topic and compare with what the desk sees.
// One REPEATABLE READ transaction pins a snapshot of the projection (tables + committed offsets); the
// topic is read up to exactly those offsets, so a live, busy projection compares cleanly. The rebuild
// goes into a scratch schema created inside that transaction, and the rollback at the end removes it.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import { readToEnd } from '../runtime/consume.ts';
import { foldPositions, refusedByFold } from '../positions/fold.ts';
import type { IncomingExecution } from '../projection/core.ts';
import { createMemoryStore } from '../projection/memoryStore.ts';
import { PROJECTED_COLUMNS, writePlan, writePositions } from '../projection/pgStore.ts';
import { createProjector } from '../projection/projector.ts';
import { fromExecutionRow, type ExecutionRow } from '../projection/rows.ts';
import { verifyChain, type ChainedRow } from '../../schemas/hashChain.ts';
import { diffRow, type Difference, type VerifyReport } from './compare.ts';

export interface VerifyDeps {
  kafka: Kafka;
  codec: Codec;
  pool: pg.Pool;
  /** PG_SCHEMA: where the live projection is. */
  schema: string;
  /** The executions topic (with its prefix) and the projection's consumer name in consumer_offsets. */
  topic: string;
  consumer: string;
}

const CHUNK = 5000;
const PAGE = 5000;

/** Postgres went away (restart, failover) mid-check: the check is read-only, so it simply starts over. */
const connectionLost = (e: unknown): boolean => {
  const code = (e as { code?: string }).code ?? '';
  return code.startsWith('57P') || code.startsWith('08') || code === 'ECONNREFUSED' || code === 'ECONNRESET'
    || /Connection terminated/.test((e as Error).message ?? '');
};

export async function verifyAudit(d: VerifyDeps, attempts = 3): Promise<VerifyReport> {
  for (let i = 1; ; i++) {
    try {
      return await verifyOnce(d);
    } catch (e) {
      if (i >= attempts || !connectionLost(e)) throw e;
      await new Promise((r) => setTimeout(r, 1000 * i));
    }
  }
}

async function verifyOnce(d: VerifyDeps): Promise<VerifyReport> {
  const live = pg.escapeIdentifier(d.schema);
  const scratchName = `${d.schema}_audit_${randomBytes(4).toString('hex')}`;
  const scratch = pg.escapeIdentifier(scratchName);
  const client = await d.pool.connect();
  // Held while the topic is read: a server restart meanwhile must fail the next statement, not the process.
  let lost: Error | undefined;
  const onError = (e: Error) => { lost = e; };
  client.on('error', onError);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    // The first statement fixes the snapshot: every later read sees the projection as of these offsets.
    const { rows: offsetRows } = await client.query<{ kafka_partition: number; next_offset: string }>(
      `SELECT kafka_partition, next_offset FROM ${live}.consumer_offsets WHERE consumer = $1 AND topic = $2`, [d.consumer, d.topic]);
    const cut = new Map(offsetRows.map((r) => [r.kafka_partition, BigInt(r.next_offset)]));

    const log = new Map<number, IncomingExecution[]>();
    let notYetProjected = 0;
    await readToEnd(d.kafka, [d.topic], async (_t, m, partition) => {
      if (BigInt(m.offset) >= (cut.get(partition) ?? 0n)) { notYetProjected++; return; }
      const list = log.get(partition) ?? [];
      list.push({ offset: m.offset, event: await d.codec.decode('ExecutionReport', m.value!) });
      log.set(partition, list);
    });

    // The projection's own batch path over the topic gives the expected rows (with their hashes)...
    const store = createMemoryStore();
    const projector = createProjector(store);
    for (const [p, list] of [...log].sort(([a], [b]) => a - b)) await projector.applyBatch(p, list);
    const expected = [...store.tables.executions.keys()].sort((a, b) => a - b).flatMap((p) => store.tables.executions.get(p)!);
    // ...and the fold over the whole log gives the positions, independently of batches.
    const events = [...log.keys()].sort((a, b) => a - b).flatMap((p) => log.get(p)!.map((m) => m.event));
    const folded = foldPositions(events.filter((e) => !refusedByFold(e)));
    const differences: Difference[] = [];
    if (!isDeepStrictEqual(store.tables.positions, folded)) {
      differences.push({ table: 'rebuild', key: '*', column: 'positions', live: 'projection batch path', rebuilt: 'foldPositions disagrees' });
    }

    await client.query(`CREATE SCHEMA ${scratch}`);
    for (const t of ['executions', 'position_history', 'positions']) {
      await client.query(`CREATE TABLE ${scratch}.${t} (LIKE ${live}.${t} INCLUDING ALL)`);
    }
    await client.query(`SET LOCAL search_path TO ${scratch}`);
    for (let i = 0; i < expected.length; i += CHUNK) await writePlan(client, { executions: expected.slice(i, i + CHUNK), history: [], positions: new Map() });
    for (let i = 0; i < store.tables.history.length; i += CHUNK) await writePlan(client, { executions: [], history: store.tables.history.slice(i, i + CHUNK), positions: new Map() });
    await writePositions(client, folded.values());
    await client.query(`SET LOCAL search_path TO ${live}`);

    // Only what the projection writes: operational columns (updated_at, projected_at) are not history.
    const compare = async (table: keyof typeof PROJECTED_COLUMNS, keySql: string, on: string) => {
      const cols = PROJECTED_COLUMNS[table];
      const row = (alias: string) => `ROW(${cols.map((c) => `${alias}.${c}`).join(', ')})`;
      const { rows } = await client.query<{ key: string; l: Record<string, unknown> | null; r: Record<string, unknown> | null }>(
        `SELECT ${keySql} AS key, to_jsonb(l) AS l, to_jsonb(r) AS r
         FROM ${live}.${table} l FULL JOIN ${scratch}.${table} r ON ${on}
         WHERE ${row('l')} IS DISTINCT FROM ${row('r')} ORDER BY 1`);
      const pick = (o: Record<string, unknown> | null) => (o === null ? null : Object.fromEntries(cols.map((c) => [c, o[c]])));
      for (const x of rows) differences.push(...diffRow(table, x.key, pick(x.l), pick(x.r)));
    };
    await compare('positions', `concat_ws('|', coalesce(l.account_id, r.account_id), coalesce(l.symbol, r.symbol), coalesce(l.venue, r.venue))`,
      'l.account_id = r.account_id AND l.symbol = r.symbol AND l.venue = r.venue');
    await compare('executions', 'coalesce(l.execution_id, r.execution_id)', 'l.execution_id = r.execution_id');
    await compare('position_history', 'coalesce(l.execution_id, r.execution_id)', 'l.execution_id = r.execution_id');
    differences.push(...await dailyPnlMismatches(client, live));

    const chain = verifyChain(await chainRows(client, live));
    const stored = expected.length;
    const count = events.length;
    return {
      ok: differences.length === 0 && chain.broken.length === 0,
      scratchSchema: scratchName, topic: d.topic, events: count, stored, repeats: count - stored, positions: folded.size,
      partitions: log.size, notYetProjected, differences, chainRows: chain.rows, brokenLinks: chain.broken,
    };
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.off('error', onError);
    client.release(lost);
  }
}

/** The daily view sums the stored per-event deltas; they must add up to each position's totals. */
async function dailyPnlMismatches(client: pg.PoolClient, live: string): Promise<Difference[]> {
  const { rows } = await client.query<{ key: string; realized_pnl: number; fees: number; day_realized: number; day_fees: number }>(
    `SELECT concat_ws('|', p.account_id, p.symbol, p.venue) AS key, p.realized_pnl, p.fees,
            coalesce(sum(d.realized_pnl), 0) AS day_realized, coalesce(sum(d.fees), 0) AS day_fees
     FROM ${live}.positions p LEFT JOIN ${live}.daily_realized_pnl d USING (account_id, symbol, venue)
     GROUP BY p.account_id, p.symbol, p.venue, p.realized_pnl, p.fees
     HAVING abs(p.realized_pnl - coalesce(sum(d.realized_pnl), 0)) > 1e-6 * (1 + abs(p.realized_pnl))
         OR abs(p.fees - coalesce(sum(d.fees), 0)) > 1e-6 * (1 + abs(p.fees))
     ORDER BY 1`);
  return rows.flatMap((r) => [
    { table: 'daily_realized_pnl' as const, key: r.key, column: 'sum(realized_pnl)', live: r.day_realized, rebuilt: r.realized_pnl },
    { table: 'daily_realized_pnl' as const, key: r.key, column: 'sum(fees)', live: r.day_fees, rebuilt: r.fees },
  ].filter((x) => Math.abs(x.live - x.rebuilt) > 1e-6 * (1 + Math.abs(x.rebuilt))));
}

/** The live rows in chain order, a page at a time. */
async function chainRows(client: pg.PoolClient, live: string): Promise<ChainedRow[]> {
  const out: ChainedRow[] = [];
  let after: [number, string] = [-1, '-1'];
  for (;;) {
    const { rows } = await client.query<ExecutionRow & { kafka_partition: number; kafka_offset: string; hash: string | null }>(
      `SELECT * FROM ${live}.executions WHERE (kafka_partition, kafka_offset) > ($1, $2) ORDER BY kafka_partition, kafka_offset LIMIT ${PAGE}`, after);
    for (const r of rows) out.push({ partition: r.kafka_partition, offset: r.kafka_offset, hash: r.hash, event: fromExecutionRow(r) });
    if (rows.length < PAGE) return out;
    const last = rows[rows.length - 1];
    after = [last.kafka_partition, last.kafka_offset];
  }
}

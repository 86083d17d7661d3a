// The projection's tables in Postgres: one SQL transaction per batch. Rows go in with unnest over one
// array per column, and a batch's executions, history, positions and offset in ONE statement (data-
// modifying CTEs): one round trip to write a batch of any size.
import type pg from 'pg';
import { positionRow, type PositionState } from '../positions/fold.ts';
import { faultOn } from '../runtime/faults.ts';
import type { BatchPlan } from './core.ts';
import type { ProjectionStore, ProjectionTx } from './projector.ts';
import { EXECUTION_COLUMNS, executionValues, fromExecutionRow, type ExecutionRow } from './rows.ts';

const EXECUTION_TYPES: Record<(typeof EXECUTION_COLUMNS)[number], string> = {
  execution_id: 'text', kafka_partition: 'int', kafka_offset: 'bigint', type: 'text', order_id: 'text',
  client_order_id: 'text', venue_order_id: 'text', venue_trade_id: 'text', signal_id: 'text', account_id: 'text',
  strategy: 'text', symbol: 'text', venue: 'text', side: 'text', last_qty: 'float8', last_price: 'float8',
  cum_qty: 'float8', leaves_qty: 'float8', fee: 'float8', ref_execution_id: 'text', reason: 'text',
  venue_time: 'timestamptz', recorded_at: 'timestamptz', hlc: 'bigint',
  fee_asset: 'text', fee_in_asset: 'float8', net_qty: 'float8',
};

const HISTORY_COLUMNS = [
  ['execution_id', 'text'], ['type', 'text'], ['kafka_partition', 'int'], ['kafka_offset', 'bigint'], ['account_id', 'text'],
  ['strategy', 'text'], ['symbol', 'text'], ['venue', 'text'], ['booked_at', 'timestamptz'], ['quantity', 'float8'],
  ['avg_price', 'float8'], ['realized_pnl', 'float8'], ['fees', 'float8'], ['fill_count', 'int'],
  ['quantity_delta', 'float8'], ['realized_pnl_delta', 'float8'], ['fees_delta', 'float8'],
] as const;

const POSITION_COLUMNS = [
  ['account_id', 'text'], ['symbol', 'text'], ['venue', 'text'], ['quantity', 'float8'], ['avg_price', 'float8'],
  ['realized_pnl', 'float8'], ['fees', 'float8'], ['fill_count', 'int'],
] as const;

/** What the projection writes, per table: all an audit can rebuild (other columns are operational). */
export const PROJECTED_COLUMNS = {
  executions: [...EXECUTION_COLUMNS, 'hash'],
  position_history: HISTORY_COLUMNS.map(([c]) => c),
  positions: POSITION_COLUMNS.map(([c]) => c),
} as const;

type Columns = readonly (readonly [string, string])[];
const EXECUTION_INSERT: Columns = [...EXECUTION_COLUMNS.map((c) => [c, EXECUTION_TYPES[c]] as const), ['hash', 'text']];

/**
 * Statements over one parameter list: each `insert` appends its rows' columns as arrays and returns an
 * INSERT reading them with unnest. `sql()` runs them as one statement: all but the last as CTEs. Every
 * part writes a different table and none reads what another writes; position_history's reference to
 * executions is checked at the end of the statement, when both are in.
 */
function statement() {
  const params: unknown[] = [];
  const parts: string[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  return {
    params,
    bind,
    insert(table: string, cols: Columns, rows: unknown[][], suffix = ''): void {
      const arrays = columns(rows, cols.length).map((a, i) => `${bind(a)}::${cols[i][1]}[]`);
      parts.push(`INSERT INTO ${table} (${cols.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})${suffix}`);
    },
    add(sql: string): void { parts.push(sql); },
    sql(): string | null {
      if (parts.length === 0) return null;
      const last = parts.length - 1;
      return parts.length === 1 ? parts[0] : `WITH ${parts.slice(0, last).map((q, i) => `w${i} AS (${q})`).join(', ')} ${parts[last]}`;
    },
  };
}
type Statement = ReturnType<typeof statement>;

// Advisory lock namespaces: 727001 the migrator, 727003 control keys, this one a projected partition.
const PARTITION_LOCK_NAMESPACE = 727002;

/** Rows → one array per column. */
function columns(rows: unknown[][], width: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: width }, () => []);
  for (const r of rows) for (let i = 0; i < width; i++) out[i].push(r[i]);
  return out;
}

export function createPgStore(pool: pg.Pool, consumer: string, topic: string): ProjectionStore {
  function txOn(client: pg.PoolClient): ProjectionTx {
    return {
      async nextOffset(partition) {
        // One writer per partition at a time (two owners overlap during a rebalance). A row lock would
        // not do: before a partition's first write there is no row to lock, and both owners would insert
        // the same executions.
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PARTITION_LOCK_NAMESPACE, `${consumer}|${topic}|${partition}`]);
        const { rows } = await client.query<{ next_offset: string }>(
          'SELECT next_offset FROM consumer_offsets WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3',
          [consumer, topic, partition],
        );
        return rows.length > 0 ? BigInt(rows[0].next_offset) : 0n;
      },
      async storedIds(ids) {
        const { rows } = await client.query<{ execution_id: string }>('SELECT execution_id FROM executions WHERE execution_id = ANY($1::text[])', [ids]);
        return new Set(rows.map((r) => r.execution_id));
      },
      async lastHash(partition) {
        const { rows } = await client.query<{ hash: string | null }>(
          'SELECT hash FROM executions WHERE kafka_partition = $1 ORDER BY kafka_offset DESC LIMIT 1', [partition]);
        return rows[0]?.hash ?? null;
      },
      async positionEvents(key) {
        const [account, symbol, venue] = key.split('|');
        const { rows } = await client.query<ExecutionRow>(
          'SELECT * FROM executions WHERE account_id = $1 AND symbol = $2 AND venue = $3 ORDER BY kafka_partition, kafka_offset',
          [account, symbol, venue],
        );
        return rows.map(fromExecutionRow);
      },
      async write(partition, plan) {
        const st = statement();
        planRows(st, plan);
        st.add(`INSERT INTO consumer_offsets (consumer, topic, kafka_partition, next_offset)
           VALUES (${st.bind(consumer)}, ${st.bind(topic)}, ${st.bind(partition)}, ${st.bind(plan.nextOffset.toString())})
           ON CONFLICT (consumer, topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset)`);
        await client.query(st.sql()!, st.params);
      },
    };
  }

  return {
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client has no listener: a server restart between two statements would be an
      // uncaught 'error' and kill the process. The failing statement reports it instead.
      const onError = (e: Error) => { broken = e; };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(txOn(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        broken = e as Error;
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.off('error', onError);
        // A connection that failed mid-transaction may be dead (server restart): never reuse it.
        client.release(broken);
      }
    },
  };
}

/** Every partition's next offset to project, as committed with the rows. */
export async function storedOffsets(pool: pg.Pool, consumer: string, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await pool.query<{ kafka_partition: number; next_offset: string }>(
    'SELECT kafka_partition, next_offset FROM consumer_offsets WHERE consumer = $1 AND topic = $2', [consumer, topic]);
  return new Map(rows.map((r) => [r.kafka_partition, BigInt(r.next_offset)]));
}

/** The plan's rows, in one statement; also used by the audit rebuild to fill its scratch schema. */
export async function writePlan(client: pg.ClientBase, plan: Pick<BatchPlan, 'executions' | 'history' | 'positions'>): Promise<void> {
  const st = statement();
  planRows(st, plan);
  const sql = st.sql();
  if (sql !== null) await client.query(sql, st.params);
}

export async function writePositions(client: pg.ClientBase, states: Iterable<PositionState>): Promise<void> {
  const st = statement();
  positionRows(st, states);
  const sql = st.sql();
  if (sql !== null) await client.query(sql, st.params);
}

function planRows(st: Statement, plan: Pick<BatchPlan, 'executions' | 'history' | 'positions'>): void {
  if (plan.executions.length > 0) {
    st.insert('executions', EXECUTION_INSERT, plan.executions.map((r) => [...executionValues(r.event, r.partition, r.offset), r.hash]));
  }
  if (plan.history.length > 0) {
    st.insert('position_history', HISTORY_COLUMNS, plan.history.map((h) => [
      h.executionId, h.type, h.partition, h.offset, h.account, h.strategy, h.symbol, h.venue, new Date(h.bookedAt), h.quantity,
      h.avgPrice, h.realizedPnl, h.fees, h.fillCount, h.quantityDelta, h.realizedPnlDelta, h.feesDelta,
    ]));
  }
  positionRows(st, plan.positions.values());
}

function positionRows(st: Statement, states: Iterable<PositionState>): void {
  const rows = [...states].map((s) => {
    const r = positionRow(s);
    // Test-only position-off-by-lot fault (runtime/faults.ts): one lot (1 on the paper venue) too many.
    if (faultOn('position-off-by-lot')) r.quantity += 1;
    return [r.account_id, r.symbol, r.venue, r.quantity, r.avg_price, r.realized_pnl, r.fees, r.fill_count, 'now'];
  });
  if (rows.length === 0) return;
  st.insert('positions', [...POSITION_COLUMNS, ['updated_at', 'timestamptz']], rows, `
  ON CONFLICT (account_id, symbol, venue) DO UPDATE SET quantity = EXCLUDED.quantity, avg_price = EXCLUDED.avg_price,
    realized_pnl = EXCLUDED.realized_pnl, fees = EXCLUDED.fees, fill_count = EXCLUDED.fill_count, updated_at = now()`);
}

// The Parquet layout of each dataset (executions, orders, risk decisions, signals, quotes): one column per
// record field (snake_case), the Kafka coordinates that make each row unique, and for executions the P&L
// the position fold attributes to the row. Pure.
import type { ExecutionReport, Order, Quote, RiskDecision, Signal } from '../schemas/types.ts';
import type { RecordName } from '../schemas/codec.ts';
import type { TopicKey } from '../schemas/topics.ts';
import type { PnlEffect } from './pnlFold.ts';

/** `dict`: a string with few distinct values (account, venue, side...), dictionary-encoded in Arrow. */
export type ColumnKind = 'string' | 'dict' | 'float64' | 'int64' | 'int32' | 'timestamp';

export interface RowContext<T> { rec: T; partition: number; offset: number; pnl: PnlEffect | null }

export interface Column<T = unknown> {
  name: string;
  kind: ColumnKind;
  /** The record field it comes from, when it is one; lets a row be turned back into a record. */
  field?: string;
  get(ctx: RowContext<T>): string | number | null;
}

export interface Dataset<T = unknown> {
  /** Folder and manifest name: the topic's name without prefix. */
  name: string;
  /** The DuckDB view over its files. */
  view: string;
  topic: TopicKey;
  record: RecordName;
  columns: Column<T>[];
  hlcOf(rec: T): number;
}

const snake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

// One compiled accessor per field. Closures made by one arrow function share its inline caches, so a
// `c.rec[field]` closure sees every field of every dataset and goes megamorphic: at a million rows that
// lookup was a fifth of the sink's CPU. A function per field keeps each load monomorphic.
// Field names are our own identifiers (checked), never input.
function accessor(field: string): Column['get'] {
  if (!/^[A-Za-z_]\w*$/.test(field)) throw new Error(`bad field name ${field}`);
  return new Function('c', `return c.rec.${field};`) as Column['get'];
}

function fields<T>(kind: ColumnKind, ...names: (keyof T & string)[]): Column<T>[] {
  return names.map((field) => ({ name: snake(field), kind, field, get: accessor(field) }));
}

function kafkaColumns<T>(): Column<T>[] {
  return [
    { name: 'kafka_partition', kind: 'int32', get: (c) => c.partition },
    { name: 'kafka_offset', kind: 'int64', get: (c) => c.offset },
  ];
}

export const executionsDataset: Dataset<ExecutionReport> = {
  name: 'executions', view: 'executions', topic: 'executions', record: 'ExecutionReport', hlcOf: (r) => r.hlc,
  columns: [
    ...fields<ExecutionReport>('string', 'executionId'),
    ...fields<ExecutionReport>('dict', 'type'),
    ...fields<ExecutionReport>('string', 'orderId', 'clientOrderId', 'venueOrderId', 'venueTradeId', 'signalId'),
    ...fields<ExecutionReport>('dict', 'account', 'strategy', 'symbol', 'venue', 'side'),
    ...fields<ExecutionReport>('float64', 'lastQty', 'lastPrice', 'cumQty', 'leavesQty', 'fee'),
    ...fields<ExecutionReport>('string', 'refExecutionId', 'reason'),
    ...fields<ExecutionReport>('timestamp', 'venueTime', 'recordedAt'),
    ...fields<ExecutionReport>('int64', 'hlc'),
    ...kafkaColumns<ExecutionReport>(),
    // Computed by the sink with streams/positions/fold.ts: the change this event made to its position.
    { name: 'pnl_realized', kind: 'float64', get: (c) => c.pnl?.realized ?? 0 },
    { name: 'pnl_fees', kind: 'float64', get: (c) => c.pnl?.fees ?? 0 },
    { name: 'position_qty', kind: 'float64', get: (c) => c.pnl?.quantity ?? null },
    { name: 'position_avg_price', kind: 'float64', get: (c) => c.pnl?.avgPrice ?? null },
  ],
};

export const ordersDataset: Dataset<Order> = {
  name: 'orders', view: 'orders', topic: 'orders', record: 'Order', hlcOf: (r) => r.hlc,
  columns: [
    ...fields<Order>('string', 'orderId', 'clientOrderId', 'signalId', 'decisionId'),
    ...fields<Order>('dict', 'account', 'strategy', 'symbol', 'venue', 'side'),
    ...fields<Order>('float64', 'quantity'),
    ...fields<Order>('dict', 'orderType'),
    ...fields<Order>('float64', 'limitPrice'),
    ...fields<Order>('dict', 'timeInForce'),
    ...fields<Order>('float64', 'signalPrice', 'arrivalMid'),
    ...fields<Order>('timestamp', 'createdAt'),
    ...fields<Order>('int64', 'hlc'),
    ...kafkaColumns<Order>(),
  ],
};

export const riskDecisionsDataset: Dataset<RiskDecision> = {
  name: 'risk-decisions', view: 'risk_decisions', topic: 'riskDecisions', record: 'RiskDecision', hlcOf: (r) => r.hlc,
  columns: [
    ...fields<RiskDecision>('string', 'decisionId', 'signalId'),
    ...fields<RiskDecision>('dict', 'account', 'strategy', 'symbol', 'verdict', 'reason'),
    ...fields<RiskDecision>('string', 'detail', 'orderId'),
    ...fields<RiskDecision>('dict', 'venue', 'side'),
    ...fields<RiskDecision>('float64', 'quantity', 'positionBefore'),
    // The router's per-venue costs, as JSON text: `candidates::JSON` in DuckDB.
    { name: 'candidates', kind: 'string', get: (c) => JSON.stringify(c.rec.candidates) },
    ...fields<RiskDecision>('timestamp', 'alertTime'),
    ...fields<RiskDecision>('int64', 'signalHlc'),
    ...fields<RiskDecision>('timestamp', 'decidedAt'),
    ...fields<RiskDecision>('int64', 'hlc'),
    ...kafkaColumns<RiskDecision>(),
  ],
};

export const signalsDataset: Dataset<Signal> = {
  name: 'signals', view: 'signals', topic: 'signals', record: 'Signal', hlcOf: (r) => r.hlc,
  columns: [
    ...fields<Signal>('string', 'signalId'),
    ...fields<Signal>('dict', 'source', 'account', 'strategy', 'symbol', 'intent', 'side'),
    ...fields<Signal>('float64', 'quantity', 'targetPosition'),
    ...fields<Signal>('dict', 'orderType'),
    ...fields<Signal>('float64', 'limitPrice', 'price', 'reportedPosition'),
    ...fields<Signal>('string', 'externalOrderId'),
    ...fields<Signal>('timestamp', 'alertTime', 'receivedAt'),
    ...fields<Signal>('int64', 'hlc'),
    ...kafkaColumns<Signal>(),
  ],
};

/**
 * Every quote the connectors publish. `quotes` is a compacted topic (the latest per venue and symbol is
 * what the router needs), so once the broker compacts a segment only this copy keeps the history a
 * backtest replays (`order-router backtest --source parquet`).
 */
export const quotesDataset: Dataset<Quote> = {
  name: 'quotes', view: 'quotes', topic: 'quotes', record: 'Quote', hlcOf: (r) => r.hlc,
  columns: [
    ...fields<Quote>('dict', 'venue', 'symbol'),
    ...fields<Quote>('float64', 'bid', 'ask', 'bidSize', 'askSize'),
    ...fields<Quote>('timestamp', 'venueTime'),
    ...fields<Quote>('int64', 'hlc'),
    ...kafkaColumns<Quote>(),
  ],
};

export const DATASETS: readonly Dataset[] = [executionsDataset, ordersDataset, riskDecisionsDataset, signalsDataset, quotesDataset];

export const duckdbType = (kind: ColumnKind): string =>
  kind === 'float64' ? 'DOUBLE' : kind === 'int64' ? 'BIGINT' : kind === 'int32' ? 'INTEGER' : kind === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR';

/** A typed, empty SELECT with a dataset's columns (and the hive `date`): its view before any file exists. */
export const emptySelect = (d: Dataset): string =>
  `SELECT ${[...d.columns.map((c) => `CAST(NULL AS ${duckdbType(c.kind)}) AS ${c.name}`), 'CAST(NULL AS DATE) AS date'].join(', ')} WHERE false`;

/**
 * SELECT list that turns a dataset's rows back into records (camelCase fields, times as epoch ms), for
 * rebuilding the sink's position state from its own files.
 */
export const recordSelectList = (d: Dataset): string =>
  d.columns.filter((c) => c.field).map((c) =>
    c.kind === 'timestamp' ? `epoch_ms(${c.name}) AS "${c.field}"` : `${c.name} AS "${c.field}"`).join(', ');

// The exactly-once check every scenario ends with, counted where a user would count: the topics, the
// venue's own order book (`GET /v1/orders?status=all`) and its submit ledger (`GET /v1/stats`: every
// submit per clientOrderId in arrival order, so a resend the venue absorbed still shows), the Postgres
// `positions` table against the fold of `executions`, and the sink's Parquet files. Every figure that
// failed is named in `failures`; a Parquet check that read nothing is a failure, never "0 lost".
// Each check has been seen failing on purpose: test/reliability/faults.test.ts.
import type { Kafka } from 'kafkajs';
import type { Codec } from '../../schemas/codec.ts';
import type { ExecutionReport, Order, RiskDecision } from '../../schemas/types.ts';
import type { SubmitSummary } from '../../connectors/submitLedger.ts';
import type { VenueOrderState } from '../../connectors/venue.ts';
import { foldPositions, positionRow, type PositionRow } from '../../streams/positions/fold.ts';
import { createPool } from '../../streams/runtime/db.ts';
import { readDecoded, sleep, type RunEnv } from './harness.ts';

export interface Verdict {
  /** Alerts whose sender got a 202 or a 200 (duplicate of an earlier 202). */
  accepted: number;
  signalsOnTopic: number;
  decided: number;
  decisions: number;
  approved: number;
  ordersOnTopic: number;
  ordersAtVenue: number;
  venueOrdersCreated: number;
  /** Orders the connector refused to send and recorded as REJECT (e.g. the venue refused them). */
  ordersRejectedByConnector: number;
  venueFills: number;
  fillsOnExecutions: number;
  positionRows: number;
  /** Every fill on `executions` looked for in the sink's Parquet files; not checked is a failure. */
  parquet: { checked: boolean; note: string; fills?: number; missing?: number; doubled?: number };
  /** Submits the venues received, summed over venues: resends are allowed after a look-up, blind ones never. */
  venueSubmits: SubmitSummary;
  /** Each a count of facts that happened more than once (must be 0); blindResends: submits of an id the venue had, with no look-up since the last one. */
  duplicates: { decisions: number; orders: number; venueOrders: number; blindResends: number; fills: number; parquet: number; total: number };
  /** Each a count of facts that went missing (must be 0). */
  lost: { decisions: number; orders: number; venueOrders: number; fills: number; positions: number; parquet: number; total: number };
  /** Every failed figure, named (empty when the run is clean). */
  failures: string[];
  /** Examples for the report, a few of each kind. */
  examples: string[];
}

interface VerifyInput {
  run: RunEnv;
  kafka: Kafka;
  codec: Codec;
  /** venue name → base URL of its (paper) HTTP API */
  venues: Record<string, string>;
  /** signal ids of alerts the edge accepted */
  accepted: Iterable<string>;
  /** The sink's ANALYTICS_DIR; without one the Parquet figure fails as not checked. */
  parquetDir?: string | null;
}

async function venueOrders(url: string): Promise<{ list: VenueOrderState[]; created: number; submits: SubmitSummary }> {
  const [list, stats] = await Promise.all([
    fetch(`${url}/v1/orders?status=all`).then((r) => r.json() as Promise<VenueOrderState[]>),
    fetch(`${url}/v1/stats`).then((r) => r.json() as Promise<{ ordersCreated: number; submits: SubmitSummary }>),
  ]);
  return { list, created: stats.ordersCreated, submits: stats.submits };
}

const count = <T>(xs: Iterable<T>, key: (x: T) => string) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
};
const over1 = (m: Map<string, number>) => [...m.values()].reduce((n, c) => n + (c > 1 ? c - 1 : 0), 0);
/** The first few keys counted more than once. */
const twice = (m: Map<string, number>) => [...m].filter(([, n]) => n > 1).slice(0, 5);

export async function verify(v: VerifyInput): Promise<Verdict> {
  const { run, kafka, codec } = v;
  const examples: string[] = [];
  const note = (s: string) => { if (examples.length < 30) examples.push(s); };
  const accepted = new Set(v.accepted);

  const [signals, decisions, orders, executions] = await Promise.all([
    readDecoded(kafka, codec, run.topics.signals, 'Signal'),
    readDecoded(kafka, codec, run.topics.riskDecisions, 'RiskDecision'),
    readDecoded(kafka, codec, run.topics.orders, 'Order'),
    readDecoded(kafka, codec, run.topics.executions, 'ExecutionReport'),
  ]);

  // Signals → decisions
  const perSignal = count<RiskDecision>(decisions, (d) => d.signalId);
  const lostDecisions = [...accepted].filter((id) => !perSignal.has(id));
  for (const id of lostDecisions.slice(0, 5)) note(`accepted signal without a decision: ${id}`);
  for (const [id, n] of twice(perSignal)) note(`signal decided ${n} times: ${id}`);

  // Decisions → orders
  const approved = decisions.filter((d) => d.verdict === 'APPROVED');
  const approvedIds = new Set(approved.map((d) => d.orderId!));
  const perOrder = count<Order>(orders, (o) => o.orderId);
  const lostOrders = [...approvedIds].filter((id) => !perOrder.has(id));
  for (const id of lostOrders.slice(0, 5)) note(`approval without an order: ${id}`);
  for (const [id, n] of twice(perOrder)) note(`order on the topic ${n} times: ${id}`);

  // Orders → the venue, counted at the venue
  const rejectedByConnector = new Set(executions.filter((e) => e.type === 'REJECT' && e.venueOrderId === null).map((e) => e.clientOrderId));
  let ordersAtVenue = 0, venueCreated = 0, venueDup = 0, lostAtVenue = 0;
  const venueFills = new Map<string, number>();
  const distinctOrders = [...new Map(orders.map((o) => [o.clientOrderId, o])).values()];
  const venueSubmits: SubmitSummary = { submits: 0, ids: 0, lookups: 0, resends: 0, blindResends: 0, examples: [] };
  for (const [name, url] of Object.entries(v.venues)) {
    const { list, created, submits } = await venueOrders(url);
    venueSubmits.submits += submits.submits;
    venueSubmits.ids += submits.ids;
    venueSubmits.lookups += submits.lookups;
    venueSubmits.resends += submits.resends;
    venueSubmits.blindResends += submits.blindResends;
    venueSubmits.examples.push(...submits.examples.map((x) => `${name}: ${x}`));
    for (const x of submits.examples.slice(0, 5)) note(`${name}: blind resend: ${x}`);
    const perCid = count(list, (s) => s.clientOrderId);
    ordersAtVenue += perCid.size;
    venueCreated += created;
    venueDup += over1(perCid) + Math.max(0, created - perCid.size);
    if (created !== perCid.size) note(`${name}: ordersCreated ${created} but ${perCid.size} distinct client order ids listed`);
    for (const [cid, n] of twice(perCid)) note(`${name}: client order id ${cid} ${n} times at the venue`);
    for (const o of distinctOrders.filter((x) => x.venue === name)) {
      if (!perCid.has(o.clientOrderId) && !rejectedByConnector.has(o.clientOrderId)) {
        if (++lostAtVenue <= 5) note(`order ${o.clientOrderId} neither at ${name} nor rejected on executions`);
      }
    }
    for (const s of list) for (const f of s.fills) venueFills.set(`${name}|${s.clientOrderId}|${f.tradeId}`, 0);
  }

  // Venue fills → executions, each once
  const fillReports = executions.filter((e) => e.type === 'FILL' || e.type === 'PARTIAL_FILL');
  const perFill = count<ExecutionReport>(fillReports, (e) => `${e.venue}|${e.clientOrderId}|${e.venueTradeId}`);
  let lostFills = 0;
  for (const k of venueFills.keys()) if (!perFill.has(k)) { lostFills++; if (lostFills <= 5) note(`venue fill not on executions: ${k}`); }
  for (const [k, n] of twice(perFill)) note(`fill on executions ${n} times: ${k}`);

  // Postgres positions = fold of executions
  const want = [...foldPositions(executions).values()].map(positionRow);
  const pool = createPool(run.runtime, 2);
  let positionsLost = 0;
  let live: PositionRow[] = [];
  try {
    const key = (r: PositionRow) => `${r.account_id}|${r.symbol}|${r.venue}`;
    const fmt = (r: PositionRow | undefined) => (r ? JSON.stringify({ q: r.quantity, avg: r.avg_price, pnl: r.realized_pnl, fees: r.fees, n: r.fill_count }) : 'none');
    // The projection may still be finishing its last batch: a few tries before calling it a mismatch.
    for (let attempt = 0; attempt < 20; attempt++) {
      live = (await pool.query<PositionRow>('SELECT account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count FROM positions')).rows
        .map((r) => ({ ...r, quantity: Number(r.quantity), avg_price: Number(r.avg_price), realized_pnl: Number(r.realized_pnl), fees: Number(r.fees), fill_count: Number(r.fill_count) }));
      const got = new Map(live.map((r) => [key(r), r]));
      const diffs = want.filter((w) => fmt(w) !== fmt(got.get(key(w))));
      const extra = live.filter((r) => !want.some((w) => key(w) === key(r)));
      positionsLost = diffs.length + extra.length;
      if (positionsLost === 0) break;
      if (attempt === 19) for (const w of diffs.slice(0, 5)) note(`position ${key(w)}: fold ${fmt(w)} vs postgres ${fmt(got.get(key(w)))}`);
      await sleep(500);
    }
  } finally {
    await pool.end();
  }

  const parquet = v.parquetDir ? await checkParquet(v.parquetDir, fillReports) : { checked: false, note: 'no sink in this run' };
  if (parquet.checked && (parquet.missing || parquet.doubled)) note(`parquet: ${parquet.missing} fills missing, ${parquet.doubled} doubled`);

  const duplicates = {
    decisions: over1(perSignal), orders: over1(perOrder), venueOrders: venueDup, blindResends: venueSubmits.blindResends, fills: over1(perFill),
    parquet: parquet.doubled ?? 0, total: 0,
  };
  duplicates.total = duplicates.decisions + duplicates.orders + duplicates.venueOrders + duplicates.blindResends + duplicates.fills + duplicates.parquet;
  const lost = { decisions: lostDecisions.length, orders: lostOrders.length, venueOrders: lostAtVenue, fills: lostFills, positions: positionsLost, parquet: parquet.missing ?? 0, total: 0 };
  lost.total = lost.decisions + lost.orders + lost.venueOrders + lost.fills + lost.positions + lost.parquet;
  const failures = [
    ...Object.entries(duplicates).filter(([k, n]) => k !== 'total' && n > 0).map(([k, n]) => `duplicates.${k}: ${n}`),
    ...Object.entries(lost).filter(([k, n]) => k !== 'total' && n > 0).map(([k, n]) => `lost.${k}: ${n}`),
    ...(parquet.checked ? [] : [`parquet not checked: ${parquet.note}`]),
  ];

  return {
    accepted: accepted.size, signalsOnTopic: signals.length, decided: perSignal.size, decisions: decisions.length, approved: approved.length,
    ordersOnTopic: orders.length, ordersAtVenue, venueOrdersCreated: venueCreated, ordersRejectedByConnector: rejectedByConnector.size,
    venueFills: venueFills.size, fillsOnExecutions: perFill.size, positionRows: live.length, parquet, venueSubmits, duplicates, lost, failures, examples,
  };
}

/** Every fill on `executions` once in the sink's Parquet files (read with DuckDB). */
async function checkParquet(dir: string, fills: ExecutionReport[]): Promise<Verdict['parquet']> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const glob = `${dir.replace(/'/g, "''")}/**/*.parquet`;
    const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${glob}', union_by_name = true, hive_partitioning = false) LIMIT 0`);
    const columns = reader.columnNames();
    const idCol = columns.includes('execution_id') ? 'execution_id' : columns.includes('executionId') ? 'executionId' : null;
    if (idCol === null) return { checked: false, note: `Parquet files found but no execution id column (${columns.join(', ')})` };
    const rows = (await con.runAndReadAll(`SELECT "${idCol}" AS id, count(*)::INTEGER AS n FROM read_parquet('${glob}', union_by_name = true) GROUP BY 1`)).getRowObjects() as { id: string; n: number }[];
    const got = new Map(rows.map((r) => [String(r.id), Number(r.n)]));
    let missing = 0, doubled = 0, found = 0;
    for (const id of new Set(fills.map((f) => f.executionId))) {
      const n = got.get(id) ?? 0;
      if (n > 0) found++;
      if (n === 0) missing++;
      if (n > 1) doubled += n - 1;
    }
    return { checked: true, note: `read with DuckDB from ${dir}`, fills: found, missing, doubled };
  } catch (e) {
    return { checked: false, note: `Parquet not readable: ${(e as Error).message.slice(0, 200)}` };
  } finally {
    con.closeSync?.();
  }
}

// Read-side helpers for the demo: the decision trail from the topics, the positions from Postgres.
import type pg from 'pg';
import { createCodec } from '../schemas/codec.ts';
import type { ExecutionReport, Order, RiskDecision } from '../schemas/types.ts';
import { readToEnd } from '../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../streams/runtime/env.ts';
import { createKafka } from '../streams/runtime/kafka.ts';
import { createLogger } from '../streams/runtime/log.ts';
import type { Topics } from '../schemas/topics.ts';

export interface Trail { decisions: RiskDecision[]; orders: Map<string, Order>; executions: Map<string, ExecutionReport[]> }

const terminal = new Set(['FILL', 'CANCEL', 'REJECT']);

/** Waits until every signal has a decision and every order an outcome, then returns the trail. */
export async function readTrail(envVars: NodeJS.ProcessEnv, topics: Topics, signalIds: string[], timeoutMs: number): Promise<Trail> {
  const env = loadRuntimeEnv(envVars);
  const kafka = createKafka(env, 'report', createLogger('report', 'error'));
  const codec = createCodec(env.SCHEMA_REGISTRY_URL);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const trail: Trail = { decisions: [], orders: new Map(), executions: new Map() };
    await readToEnd(kafka, [topics.riskDecisions, topics.orders, topics.executions], async (topic, m) => {
      if (topic === topics.riskDecisions) trail.decisions.push(await codec.decode('RiskDecision', m.value!));
      else if (topic === topics.orders) { const o = await codec.decode('Order', m.value!); trail.orders.set(o.orderId, o); }
      else {
        const e = await codec.decode('ExecutionReport', m.value!);
        const list = trail.executions.get(e.orderId) ?? [];
        list.push(e);
        trail.executions.set(e.orderId, list);
      }
    });
    const decided = new Set(trail.decisions.map((d) => d.signalId));
    const done = signalIds.every((s) => decided.has(s))
      && [...trail.orders.keys()].every((id) => trail.executions.get(id)?.some((e) => terminal.has(e.type)));
    if (done || Date.now() > until) {
      trail.decisions.sort((a, b) => a.hlc - b.hlc);
      if (!done) console.log('(not every order reached a final state in time; showing what there is)');
      return trail;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Waits for the bracket exit of `role` placed for a fill of an entry in `symbol` (the demo drives the market to it). */
export async function waitForExit(envVars: NodeJS.ProcessEnv, topics: Topics, symbol: string, role: 'TAKE_PROFIT' | 'STOP_LOSS', timeoutMs: number): Promise<Order | null> {
  const env = loadRuntimeEnv(envVars);
  const kafka = createKafka(env, 'report', createLogger('report', 'error'));
  const codec = createCodec(env.SCHEMA_REGISTRY_URL);
  const until = Date.now() + timeoutMs;
  for (;;) {
    let found: Order | null = null;
    await readToEnd(kafka, [topics.orders], async (_topic, m) => {
      const o = await codec.decode('Order', m.value!);
      if (o.symbol === symbol && o.exitRole === role) found = o;
    });
    if (found !== null || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const fmt = (n: number, d = 2) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export function printTrail(t: Trail): void {
  console.log('\nDecision trail (signal → risk decision → order → executions)');
  for (const d of t.decisions) {
    const head = `  ${d.signalId.slice(0, 12)}… ${d.strategy.padEnd(10)} ${d.symbol.padEnd(7)} ${d.verdict.padEnd(9)}`;
    if (d.verdict !== 'APPROVED' || d.orderId === null) {
      console.log(`${head} ${d.reason ?? ''}${d.detail ? ` (${d.detail})` : ''}`);
      continue;
    }
    const o = t.orders.get(d.orderId);
    console.log(`${head} ${d.side} ${d.quantity} → ${d.venue} order ${o?.clientOrderId ?? d.orderId}`);
    printExecutions(t, d.orderId, '      ');
    // A bracket's exits, placed by the pipeline for each fill of the entry.
    for (const x of [...t.orders.values()].filter((o) => o.parentOrderId === d.orderId)) {
      const price = x.limitPrice !== null ? ` @ ${x.limitPrice}` : x.stopPrice !== null ? ` stop ${x.stopPrice}` : '';
      console.log(`      ${x.exitRole === 'TAKE_PROFIT' ? 'take-profit' : 'stop-loss'}: ${x.side} ${x.quantity} ${x.orderType}${price} → order ${x.clientOrderId}`);
      printExecutions(t, x.orderId, '          ');
    }
  }
}

function printExecutions(t: Trail, orderId: string, indent: string): void {
  for (const e of t.executions.get(orderId) ?? []) {
    const what = e.lastQty > 0 ? `${e.lastQty} @ ${e.lastPrice} fee ${fmt(e.fee, 4)}` : (e.reason ?? '');
    console.log(`${indent}${e.type.padEnd(12)} ${what}`);
  }
}

export async function printPositions(pool: pg.Pool, venueUrl: string): Promise<void> {
  const { rows } = await pool.query<{ account_id: string; symbol: string; venue: string; quantity: number; avg_price: number; realized_pnl: number; fees: number; fill_count: number }>(
    'SELECT account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count FROM positions ORDER BY account_id, symbol, venue',
  );
  const symbols = [...new Set(rows.map((r) => r.symbol))];
  const marks = new Map<string, number>();
  if (symbols.length > 0) {
    const res = await fetch(`${venueUrl}/v1/quotes?symbols=${symbols.join(',')}`);
    if (res.ok) for (const q of (await res.json()) as { symbol: string; bid: number; ask: number }[]) marks.set(q.symbol, (q.bid + q.ask) / 2);
  }
  console.log('\nPositions (Postgres table `positions`, unrealized at the paper venue mid)');
  const header = ['account', 'symbol', 'venue', 'quantity', 'avg price', 'mark', 'realized', 'unrealized', 'fees', 'fills'];
  const table = rows.map((r) => {
    const mark = marks.get(r.symbol);
    const unreal = mark === undefined ? NaN : (mark - r.avg_price) * r.quantity;
    return [r.account_id, r.symbol, r.venue, String(r.quantity), fmt(r.avg_price, 4), mark === undefined ? '-' : fmt(mark, 4),
      fmt(r.realized_pnl), Number.isNaN(unreal) ? '-' : fmt(unreal), fmt(r.fees, 4), String(r.fill_count)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  console.log(line(header));
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of table) console.log(line(row));
}

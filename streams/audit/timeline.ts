// `audit trail`, the pure part: the records of one signal's causal chain → an ordered trail with both
// clocks at every step (our hlc, and the venue's time where it gave one), plus what is missing.
import type { CancelRequest, ExecutionReport, Order, RiskDecision, Signal } from '../../schemas/types.ts';
import { hlcToMillis } from '../../schemas/hlc.ts';

export interface Located { topic: string; partition: number; offset: string }

export type TrailRecord =
  | { kind: 'signal'; at: Located; value: Signal }
  | { kind: 'decision'; at: Located; value: RiskDecision }
  | { kind: 'order'; at: Located; value: Order; shadow: boolean }
  | { kind: 'execution'; at: Located; value: ExecutionReport; stored?: { hash: string | null } | null }
  | { kind: 'cancel'; at: Located; value: CancelRequest };

export interface TrailStep {
  kind: TrailRecord['kind'];
  id: string;
  hlc: number;
  /** Our time: the hlc as ISO 8601. */
  at: string;
  venueTime: string | null;
  headline: string;
  detail: string;
  source: Located;
}

export interface Trail { query: string; signalId: string | null; steps: TrailStep[]; warnings: string[] }

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The signal an id belongs to: the id itself, or the signal an order, decision or execution carries. */
export function signalIdOf(id: string, r: Order | RiskDecision | ExecutionReport): string | null {
  if (r.signalId === id) return id;
  if ('decisionId' in r && r.decisionId === id) return r.signalId;
  if (r.orderId === id) return r.signalId;
  if ('clientOrderId' in r && r.clientOrderId === id) return r.signalId;
  if ('executionId' in r && r.executionId === id) return r.signalId;
  return null;
}

function step(r: TrailRecord): TrailStep {
  switch (r.kind) {
    case 'signal': {
      const s = r.value;
      const what = s.intent === 'DELTA' ? `${s.side} ${s.quantity}` : s.intent === 'TARGET' ? `target ${s.targetPosition}` : 'flat';
      return {
        kind: r.kind, id: s.signalId, hlc: s.hlc, at: iso(hlcToMillis(s.hlc))!, venueTime: null, source: r.at,
        headline: `${s.source} ${s.account}/${s.strategy} ${s.symbol} ${s.intent} ${what} ${s.orderType}${s.limitPrice !== null ? ` @ ${s.limitPrice}` : ''}`,
        detail: `alert price ${s.price ?? '-'}; sender's time ${iso(s.alertTime) ?? '-'}; received ${iso(s.receivedAt)}`,
      };
    }
    case 'decision': {
      const d = r.value;
      const routed = d.orderId ? ` → ${d.orderId} on ${d.venue}: ${d.side} ${d.quantity}` : '';
      const costs = d.candidates.map((c) => `${c.venue} ${c.costBps.toFixed(2)}bps`).join(', ');
      return {
        kind: r.kind, id: d.decisionId, hlc: d.hlc, at: iso(hlcToMillis(d.hlc))!, venueTime: null, source: r.at,
        headline: `${d.verdict}${d.reason ? ` ${d.reason}` : ''}${routed}`,
        detail: `sized against position ${d.positionBefore}; decided ${iso(d.decidedAt)}${d.detail ? `; ${d.detail}` : ''}${costs ? `; venues ${costs}` : ''}`,
      };
    }
    case 'order': {
      const o = r.value;
      return {
        kind: r.kind, id: o.orderId, hlc: o.hlc, at: iso(hlcToMillis(o.hlc))!, venueTime: null, source: r.at,
        headline: `${r.shadow ? 'SHADOW ' : ''}${o.exitRole !== null ? `${o.exitRole} of ${o.parentOrderId}: ` : ''}${o.venue} ${o.side} ${o.quantity} ${o.symbol} ${o.orderType}`
          + `${o.limitPrice !== null ? ` @ ${o.limitPrice}` : ''}${o.stopPrice !== null ? ` stop ${o.stopPrice}` : ''} ${o.timeInForce}`,
        detail: `client order id ${o.clientOrderId}; arrival mid ${o.arrivalMid ?? '-'}; created ${iso(o.createdAt)}`
          + `${o.takeProfit !== null || o.stopLoss !== null ? `; bracket ${JSON.stringify({ takeProfit: o.takeProfit, stopLoss: o.stopLoss })}` : ''}${o.ocoGroup !== null ? `; oco ${o.ocoGroup}` : ''}`,
      };
    }
    case 'execution': {
      const e = r.value;
      const fill = e.lastQty > 0 ? ` ${e.lastQty} @ ${e.lastPrice} fee ${e.fee}` : '';
      const stored = r.stored === undefined ? '' : r.stored === null ? '; NOT in Postgres' : `; in Postgres, hash ${r.stored.hash ?? '(none)'}`;
      return {
        kind: r.kind, id: e.executionId, hlc: e.hlc, at: iso(hlcToMillis(e.hlc))!, venueTime: iso(e.venueTime), source: r.at,
        headline: `${e.type}${fill}${e.refExecutionId ? ` amends ${e.refExecutionId}` : ''}${e.reason ? ` (${e.reason})` : ''}`,
        detail: `cum ${e.cumQty} leaves ${e.leavesQty}; venue order ${e.venueOrderId ?? '-'}; recorded ${iso(e.recordedAt)}${stored}`,
      };
    }
    case 'cancel': {
      const c = r.value;
      return {
        kind: r.kind, id: c.requestId, hlc: c.hlc, at: iso(hlcToMillis(c.hlc))!, venueTime: null, source: r.at,
        headline: `CANCEL REQUESTED by ${c.source}:${c.actor}${c.reason ? ` (${c.reason})` : ''}`,
        detail: `order ${c.orderId} on ${c.venue}; requested ${iso(c.requestedAt)}`,
      };
    }
    default: {
      const unknown: never = r;
      throw new Error(`unhandled trail record ${JSON.stringify(unknown)}`);
    }
  }
}

const CAUSAL_RANK: Record<TrailRecord['kind'], number> = { signal: 0, decision: 1, order: 2, cancel: 3, execution: 4 };

export function buildTrail(query: string, signalId: string | null, records: readonly TrailRecord[]): Trail {
  // A decision and its order share one hlc; on a tie the causal order decides.
  const steps = records.map(step).sort((a, b) => a.hlc - b.hlc || CAUSAL_RANK[a.kind] - CAUSAL_RANK[b.kind]);
  const warnings: string[] = [];
  const of = <K extends TrailRecord['kind']>(k: K) => records.filter((r): r is Extract<TrailRecord, { kind: K }> => r.kind === k);
  const decisions = of('decision');
  const orders = of('order').filter((o) => !o.shadow);
  const executions = of('execution');
  if (records.length === 0) warnings.push(`nothing found for ${query}`);
  else {
    if (of('signal').length === 0) warnings.push('the signal itself is not on the signals topic');
    if (decisions.length === 0) warnings.push('no risk decision for this signal');
    if (decisions.length > 1) warnings.push(`${decisions.length} risk decisions for one signal`);
    for (const d of decisions) {
      if (d.value.orderId && !orders.some((o) => o.value.orderId === d.value.orderId)) warnings.push(`decision names order ${d.value.orderId}, which is not on the orders topic`);
    }
    for (const o of orders) {
      if (!executions.some((e) => e.value.orderId === o.value.orderId)) warnings.push(`order ${o.value.orderId} has no execution report yet`);
    }
    for (const e of executions) if (e.stored === null) warnings.push(`execution ${e.value.executionId} is not in Postgres (yet)`);
  }
  return { query, signalId, steps, warnings };
}

export function formatTrail(t: Trail): string[] {
  const lines = [`trail of ${t.query}${t.signalId && t.signalId !== t.query ? ` (signal ${t.signalId})` : ''}`];
  t.steps.forEach((s, i) => {
    lines.push(`[${i + 1}] ${s.kind.padEnd(9)} ${s.id}`);
    lines.push(`    ours  ${s.at} (hlc ${s.hlc})   venue ${s.venueTime ?? '-'}   ${s.source.topic} p${s.source.partition}@${s.source.offset}`);
    lines.push(`    ${s.headline}`);
    lines.push(`    ${s.detail}`);
  });
  for (const w of t.warnings) lines.push(`WARNING: ${w}`);
  return lines;
}

// The ORDER_OUTCOME record on `control`: an order whose outcome at its venue nobody can know yet (the
// venue took a request it may have executed, and its look-up cannot say "absent" for sure). A connector
// writes `UNKNOWN` in the same transaction as the order's offset, never sends that order again, keeps
// looking it up, and writes `RESOLVED` once the venue lists it (its ACK / FILL / REJECT then on
// `executions`). For a venue whose look-up cannot say "absent" for sure, the connector also writes
// `SENDING` before it sends an order (acknowledged first): a successor that finds the marker and not the
// order parks it as UNKNOWN instead of sending it again; once the order's outcome is recorded the
// marker is deleted (a tombstone). `SENDING` is the connector's own bookkeeping: folds for people
// (`foldOutcome`, the ops API, the dashboard) leave it out. This module owns the record's shape, its key and its fold; every reader of `control`
// (the connector rebuilding after a restart, the ops API, the dashboard) folds it through `foldOutcome`,
// and the gate's own fold ignores the kind (streams/decide/controlFold.ts). Pure.
import { z } from 'zod';
import { controlKey } from './controlKey.ts';
import { RouterError } from './errors.ts';
import type { Control } from './types.ts';

/**
 * An operator's settlement of an order of unknown outcome, from the venue's own statement: it never
 * reached the venue (`notTraded`: the connector records a REJECT), or it is this venue order
 * (`venueOrderId`: the connector looks it up by that id and records what the venue says).
 */
const settleSchema = z.union([
  z.object({ notTraded: z.literal(true) }).strict(),
  z.object({ venueOrderId: z.string().min(1).max(128) }).strict(),
]);
export type Settlement = z.infer<typeof settleSchema>;

const outcomeSchema = z.object({
  status: z.enum(['UNKNOWN', 'RESOLVED', 'SENDING', 'SETTLE']),
  clientOrderId: z.string().min(1),
  orderId: z.string().min(1),
  venue: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['BUY', 'SELL']),
  quantity: z.number().positive(),
  account: z.string(),
  strategy: z.string(),
  /** When the outcome became unknown (epoch ms, the venue client's clock, else the connector's). */
  since: z.number().int().nonnegative(),
  /** What made it unknown: the failure's code or the venue's return code. */
  reason: z.string(),
  /** RESOLVED: what the venue said in the end (ACKED, FILLED, REJECTED, CANCELED). */
  resolution: z.string().nullable().default(null),
  resolvedAt: z.number().int().nullable().default(null),
  /** SETTLE: the operator's settlement, who gave it and why (`reason` stays what made it unknown). */
  settle: settleSchema.nullable().default(null),
  settledBy: z.string().nullable().default(null),
  settleReason: z.string().nullable().default(null),
}).strict();

export type OrderOutcome = z.infer<typeof outcomeSchema>;

/** `ORDER_OUTCOME|VENUE|<venue>|<clientOrderId>`: one compacted key per order (what `keyOf` gives its record). */
export const orderOutcomeKey = (venue: string, clientOrderId: string): string => `${orderOutcomePrefix(venue)}${clientOrderId}`;
/** Every ORDER_OUTCOME key of one venue starts with this. */
export const orderOutcomePrefix = (venue: string): string => `${controlKey('ORDER_OUTCOME', 'VENUE', venue)}|`;

export function outcomeControl(o: OrderOutcome, ids: { controlId: string; actor: string; at: number; hlc: number }): Control {
  return {
    controlId: ids.controlId, kind: 'ORDER_OUTCOME', scope: 'VENUE', target: o.venue, state: null, payload: JSON.stringify(o),
    actor: ids.actor, at: ids.at, hlc: ids.hlc,
    reason: o.status === 'RESOLVED' ? `resolved: ${o.resolution ?? 'found'}` : o.status === 'SETTLE' ? `settle: ${o.settleReason ?? ''}` : o.reason,
  };
}

/** The outcome a Control carries; throws INVALID_CONTROL naming the field (`payload.since`...). */
export function parseOutcome(c: Control): OrderOutcome {
  if (c.kind !== 'ORDER_OUTCOME') throw new RouterError('INVALID_CONTROL', `control ${c.controlId}: kind: expected ORDER_OUTCOME, got ${c.kind}`, { context: { field: 'kind' } });
  let json: unknown;
  try { json = JSON.parse(c.payload ?? 'null'); } catch { json = undefined; }
  const parsed = outcomeSchema.safeParse(json);
  if (parsed.success && parsed.data.venue === c.target) return parsed.data;
  const issue = parsed.success ? null : parsed.error.issues[0];
  const field = issue ? ['payload', ...issue.path.map(String)].join('.') : 'target';
  throw new RouterError('INVALID_CONTROL', `control ${c.controlId}: ${field}: ${issue ? issue.message : 'differs from payload.venue'}`, { context: { field } });
}

/** Orders of unknown outcome, by `venue|clientOrderId`. */
export type UnknownOrders = ReadonlyMap<string, OrderOutcome>;

const entryKey = (venue: string, cid: string) => `${venue}|${cid}`;

/**
 * Folds one `control` record: UNKNOWN adds the order, SETTLE adds or replaces it (still unknown until its
 * connector settles it; after compaction the SETTLE record is all the topic keeps of an unresolved order),
 * RESOLVED removes it; other kinds, and a record that does not parse, leave the map as it is (the same
 * map, so callers can tell nothing changed).
 */
export function foldOutcome(orders: UnknownOrders, c: Control): UnknownOrders {
  if (c.kind !== 'ORDER_OUTCOME') return orders;
  let o: OrderOutcome;
  try { o = parseOutcome(c); } catch { return orders; }
  const key = entryKey(o.venue, o.clientOrderId);
  if (o.status === 'SENDING') return orders;
  if (o.status === 'UNKNOWN' || o.status === 'SETTLE') return new Map(orders).set(key, o);
  if (!orders.has(key)) return orders;
  const next = new Map(orders);
  next.delete(key);
  return next;
}

/** Oldest first, for the ops API and the dashboard. */
export const listUnknown = (orders: UnknownOrders): OrderOutcome[] =>
  [...orders.values()].sort((a, b) => a.since - b.since || a.clientOrderId.localeCompare(b.clientOrderId));

/**
 * The SETTLE record an operator's settlement of a listed order becomes (the same key, so it replaces the
 * UNKNOWN record); throws NOT_FOUND when the order is not listed as of unknown outcome. Pure.
 */
export function settleOutcome(orders: UnknownOrders, req: { venue: string; clientOrderId: string; settle: Settlement; actor: string; reason: string }): OrderOutcome {
  const listed = orders.get(entryKey(req.venue, req.clientOrderId));
  if (listed === undefined) {
    throw new RouterError('NOT_FOUND', `no order ${req.clientOrderId} of unknown outcome on ${req.venue}`, { context: { field: 'clientOrderId' } });
  }
  return { ...listed, status: 'SETTLE', settle: req.settle, settledBy: req.actor, settleReason: req.reason };
}

// The `control` topic's key, part of its contract: compaction keeps the latest record per key, so every
// producer of `control` (the ops API, decide's loss breaches, connectors' venue states, the cost model)
// must spell it the same way.
import { RouterError } from './errors.ts';
import type { Control, Scope } from './types.ts';

/** `<kind>|<scope>|<target>`, e.g. `TRADING_STATE|VENUE|paper`. */
export const controlKey = (kind: string, scope: Scope, target: string): string => `${kind}|${scope}|${target}`;

/**
 * The key a record is written under: `controlKey`, except ORDER_OUTCOME, one per order
 * (`ORDER_OUTCOME|VENUE|<venue>|<clientOrderId>`, the id from its payload; schemas/orderOutcome.ts).
 */
export function keyOf(c: Pick<Control, 'controlId' | 'kind' | 'scope' | 'target' | 'payload'>): string {
  const key = controlKey(c.kind, c.scope, c.target);
  if (c.kind !== 'ORDER_OUTCOME') return key;
  let cid: unknown;
  try { cid = (JSON.parse(c.payload ?? 'null') as { clientOrderId?: unknown } | null)?.clientOrderId; } catch { cid = undefined; }
  if (typeof cid !== 'string' || cid === '') throw new RouterError('INVALID_CONTROL', `control ${c.controlId}: payload.clientOrderId: an ORDER_OUTCOME record names its order`, { context: { field: 'payload.clientOrderId' } });
  return `${key}|${cid}`;
}

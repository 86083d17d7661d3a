// The `control` topic's key, part of its contract: compaction keeps the latest record per key, so every
// producer of `control` (the ops API, decide's loss breaches, connectors' venue states, the cost model)
// must spell it the same way.
import type { Scope } from './types.ts';

/** `<kind>|<scope>|<target>`, e.g. `TRADING_STATE|VENUE|paper`. */
export const controlKey = (kind: string, scope: Scope, target: string): string => `${kind}|${scope}|${target}`;

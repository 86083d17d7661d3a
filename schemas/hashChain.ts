// Tamper evidence for the stored execution log: each row's hash covers the previous row's hash of the
// same Kafka partition, so altering, deleting or inserting a row breaks every link after it. Pure.
//
//   hash = sha256_hex( prev_hash "\n" canonical_json(event) "\n" partition "\n" offset )
//
// prev_hash is GENESIS_HASH for a partition's first stored row. The separator cannot occur inside the
// canonical JSON (JSON escapes newlines), so the preimage is unambiguous.
import { createHash } from 'node:crypto';
import type { ExecutionReport } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);

// Every schema field, listed once; `satisfies` fails the build when the schema gains a field, so a
// new field cannot silently escape the hash.
const FIELDS = {
  executionId: true, type: true, orderId: true, clientOrderId: true, venueOrderId: true, venueTradeId: true,
  signalId: true, account: true, strategy: true, symbol: true, venue: true, side: true, lastQty: true,
  lastPrice: true, cumQty: true, leavesQty: true, fee: true, refExecutionId: true, reason: true, venueTime: true,
  recordedAt: true, hlc: true,
  // Added later with null defaults: in the hash only when set, so rows stored before them keep their hashes.
  feeAsset: 'whenSet', feeInAsset: 'whenSet', netQty: 'whenSet',
} as const satisfies Record<keyof ExecutionReport, true | 'whenSet'>;
const SORTED_FIELDS = (Object.keys(FIELDS) as (keyof ExecutionReport)[]).sort();

/** Keys in code-point order, no whitespace, only the schema's fields: the same bytes from the topic and the row. */
export function canonicalEvent(e: ExecutionReport): string {
  return `{${SORTED_FIELDS.filter((k) => FIELDS[k] === true || e[k] != null).map((k) => `${JSON.stringify(k)}:${JSON.stringify(e[k] ?? null)}`).join(',')}}`;
}

export function linkHash(prevHash: string, e: ExecutionReport, partition: number, offset: string): string {
  return createHash('sha256').update(`${prevHash}\n${canonicalEvent(e)}\n${partition}\n${offset}`).digest('hex');
}

export interface ChainedRow { partition: number; offset: string; hash: string | null; event: ExecutionReport }

export interface BrokenLink {
  partition: number;
  offset: string;
  executionId: string;
  stored: string | null;
  expected: string;
}

export interface ChainReport {
  rows: number;
  /** Head hash per partition, as stored: an auditor can note it and compare it next time. */
  heads: Map<number, string | null>;
  /** The first broken link of each partition whose chain is broken. */
  broken: BrokenLink[];
}

/**
 * Recomputes every link from the stored rows. Rows must come in (partition, offset) order. Each link is
 * checked against the previous *stored* hash, so the first broken link is the first row that was
 * altered (or the row after one altered with a forged hash, or after a deleted one).
 */
export function verifyChain(rows: Iterable<ChainedRow>): ChainReport {
  const heads = new Map<number, string | null>();
  const brokenIn = new Map<number, BrokenLink>();
  let count = 0;
  let partition = -1;
  let prev = GENESIS_HASH;
  let lastOffset = -1n;
  for (const r of rows) {
    if (r.partition !== partition) {
      if (r.partition < partition) throw new Error('verifyChain: rows are not in (partition, offset) order');
      partition = r.partition;
      prev = GENESIS_HASH;
      lastOffset = -1n;
    }
    if (BigInt(r.offset) <= lastOffset) throw new Error('verifyChain: rows are not in (partition, offset) order');
    lastOffset = BigInt(r.offset);
    count++;
    const expected = linkHash(prev, r.event, r.partition, r.offset);
    if (r.hash !== expected && !brokenIn.has(r.partition)) {
      brokenIn.set(r.partition, { partition: r.partition, offset: r.offset, executionId: r.event.executionId, stored: r.hash, expected });
    }
    // A missing hash cannot seed the next link; the expected one keeps later links checkable.
    prev = r.hash ?? expected;
    heads.set(r.partition, r.hash);
  }
  return { rows: count, heads, broken: [...brokenIn.values()] };
}

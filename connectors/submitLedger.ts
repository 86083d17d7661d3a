// Submit attempts per clientOrderId as a venue (or a proxy in front of it) saw them, in arrival order.
// A venue that is idempotent by client order id absorbs a second submit, so "orders created" can never
// show a connector that sends twice; this ledger can. A resend is a submit for an id whose earlier submit
// already reached the venue; a blind resend is a resend with no look-up of that id since that earlier
// submit, which is what the connector runtime promises never to do ("look up before any resend").
//
// Arrival order, not handling order: a venue that sleeps before handling (a latency knob) may handle an
// early submit after a later look-up, and the connector is judged on what it sent, in the order it sent it.
// Pure: the caller numbers arrivals (`seq`) and records only calls that reached the venue's books.

export type LedgerCall = 'submit' | 'lookup';

export interface SubmitSummary {
  /** Submits that reached the venue. */
  submits: number;
  /** Distinct client order ids submitted. */
  ids: number;
  /** Look-ups of ids that were submitted, after their first submit. */
  lookups: number;
  /** Submits for an id the venue already had. */
  resends: number;
  /** Resends with no look-up of that id since its previous submit (must be 0). */
  blindResends: number;
  /** A few ids with blind resends, for the report. */
  examples: string[];
}

export interface SubmitLedger {
  record(clientOrderId: string, call: LedgerCall, seq: number): void;
  summary(): SubmitSummary;
}

export function createSubmitLedger(): SubmitLedger {
  const calls = new Map<string, { seq: number; call: LedgerCall }[]>();
  return {
    record(cid, call, seq) {
      const list = calls.get(cid);
      if (list) list.push({ seq, call });
      else calls.set(cid, [{ seq, call }]);
    },
    summary() {
      const s: SubmitSummary = { submits: 0, ids: 0, lookups: 0, resends: 0, blindResends: 0, examples: [] };
      for (const [cid, list] of calls) {
        let submitted = false;
        let lookupsSince = 0;
        let blind = 0;
        for (const c of [...list].sort((a, b) => a.seq - b.seq)) {
          if (c.call === 'lookup') {
            if (submitted) { lookupsSince++; s.lookups++; }
            continue;
          }
          s.submits++;
          if (submitted) {
            s.resends++;
            if (lookupsSince === 0) blind++;
          }
          submitted = true;
          lookupsSince = 0;
        }
        if (submitted) s.ids++;
        s.blindResends += blind;
        if (blind > 0 && s.examples.length < 10) s.examples.push(`${cid}: ${blind} blind of ${list.filter((c) => c.call === 'submit').length} submits`);
      }
      return s;
    },
  };
}

// When is "no such order" the truth? Pure bookkeeping, the clock passed in.
//
// Binance can apply a request well after the client gave up on it: the API waits up to 10 s for the
// matching engine and answers -1007 "execution status unknown" if it has not heard back (rest-api.md
// "General API Information"), a 5xx leaves the outcome UNKNOWN ("HTTP Return Codes"), and a signed
// request is forwarded as long as its timestamp is within recvWindow ("Timing security"). Meanwhile
// `newClientOrderId` is unique among open orders only ("New order (TRADE)"): once a market order has
// filled, a resend with the same id is accepted as a second order. So a look-up that finds nothing is
// only conclusive once the last send of that id can no longer take effect.
export interface UnknownWindowOptions {
  /** How long after an unknown outcome the venue may still apply the request. */
  windowMs: number;
  /** The request's recvWindow: the venue forwards it until timestamp + recvWindow (+1 s of allowed lead). */
  recvWindowMs: number;
  /** When this process started: anything another process sent was sent before then. */
  startedAt: number;
}

export interface UnknownWindows {
  /** A submit of this id goes out now: until its answer says otherwise, its outcome is unknown. */
  sent(clientOrderId: string, at: number): void;
  /** The answer never came or said "unknown" (timeout, 5xx, -1006/-1007, duplicate not found yet). */
  unknown(clientOrderId: string, at: number): void;
  /** The venue refused it before the matching engine (4xx, 429, -1021, connection refused). */
  refused(clientOrderId: string): void;
  /** The venue has it: nothing to wait for. */
  found(clientOrderId: string): void;
  /** Someone else (a previous owner of the order) may have sent it as late as `at`. */
  mayHaveBeenSent(clientOrderId: string, at: number): void;
  /** Epoch ms from which a look-up that finds nothing is conclusive for this id. */
  conclusiveAt(clientOrderId: string): number;
  /** Ids still inside their window (for logs and tests). */
  pending(now: number): string[];
}

const PRUNE_ABOVE = 10_000;

export function createUnknownWindows(o: UnknownWindowOptions): UnknownWindows {
  const until = new Map<string, number>();
  const lead = o.recvWindowMs + 1_000;
  const extend = (cid: string, t: number) => {
    until.set(cid, Math.max(until.get(cid) ?? 0, t));
    if (until.size > PRUNE_ABOVE) {
      const oldest = t - 10 * o.windowMs;
      for (const [k, v] of until) if (v < oldest) until.delete(k);
    }
  };
  return {
    sent(cid, at) { extend(cid, at + Math.max(o.windowMs, lead)); },
    unknown(cid, at) { extend(cid, at + o.windowMs); },
    refused(cid) { until.delete(cid); },
    found(cid) { until.delete(cid); },
    mayHaveBeenSent(cid, at) { extend(cid, at + Math.max(o.windowMs, lead)); },
    conclusiveAt(cid) { return until.get(cid) ?? o.startedAt + Math.max(o.windowMs, lead); },
    pending(now) { return [...until].filter(([, t]) => t > now).map(([k]) => k); },
  };
}

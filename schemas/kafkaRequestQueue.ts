// Two timers kafkajs 2.2.4 (its last release) keeps in every connection's request queue, replaced here.
//
// 1. After each check for waiting requests it re-arms a timer with `throttledUntil - Date.now()` as the
//    delay even when nothing waits and no broker throttles (throttledUntil is -1): a setTimeout of about
//    -1.8e12 ms, which Node runs after 1 ms, forever, from the first request on (tulios/kafkajs#1556,
//    #1704; the fixes are unmerged). Since Node 23 it also prints a TimeoutNegativeWarning. Now a check is
//    scheduled only while requests wait, at the end of a broker's throttle or after kafkajs's own 10 ms
//    interval, as before. A request that waits for an in-flight slot is still sent when a response frees
//    one (kafkajs calls the check on every response and timeout); one that waits for a throttle is still
//    sent when it ends.
// 2. It looks for timed-out requests every 100 ms, whatever the request timeout (30 s here). Now every
//    tenth of the timeout, between 100 ms and 1 s: a request still times out at most 10 % late.
//
// Each wake-up costs about 0.1 ms of CPU on this project's 2-core machine: a lone idle consumer took 0.025
// of a core with kafkajs's timers.
import { createRequire } from 'node:module';

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_MS = 10;

interface RequestQueueShape {
  pending: unknown[];
  inflight: Map<number, { sentAt: number | null; requestTimeout: number; timeoutRequest(): void }>;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  isConnected(): boolean;
  destroy(): void;
  scheduleRequestTimeoutCheck(): void;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const FIXED = Symbol.for('order-router.kafkajs.requestQueue.fixed');

/** The request queue class kafkajs itself uses (the same module instance: same resolved file). */
export function kafkajsRequestQueue(): { prototype: RequestQueueShape } {
  return createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueShape };
}

/** How often a queue looks for timed-out requests: a tenth of the timeout, between 100 ms and 1 s. Pure. */
export const timeoutCheckEvery = (requestTimeout: number) => Math.max(100, Math.min(1_000, Math.floor(requestTimeout / 10)));

/** Replaces kafkajs's two timers (see above); once per process, idempotent. */
export function fixKafkajsRequestQueue(): void {
  const proto = kafkajsRequestQueue().prototype as RequestQueueShape & { [FIXED]?: true };
  if (proto[FIXED]) return;
  for (const m of ['scheduleCheckPendingRequests', 'checkPendingRequests', 'scheduleRequestTimeoutCheck', 'destroy'] as const) {
    if (typeof proto[m] !== 'function') throw new Error(`kafkajs request queue: ${m} not found (a kafkajs other than 2.2.x?)`);
  }
  proto.scheduleCheckPendingRequests = function (this: RequestQueueShape) {
    if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, throttled > 0 ? throttled : CHECK_PENDING_MS);
  };
  // kafkajs's own body with the interval changed (requestQueue/index.js, scheduleRequestTimeoutCheck).
  proto.scheduleRequestTimeoutCheck = function (this: RequestQueueShape) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(() => {
      const now = Date.now();
      this.inflight.forEach((request) => {
        if (request.sentAt !== null && now - request.sentAt > request.requestTimeout) request.timeoutRequest();
      });
      if (!this.isConnected()) this.destroy();
    }, timeoutCheckEvery(this.requestTimeout));
  };
  proto[FIXED] = true;
}

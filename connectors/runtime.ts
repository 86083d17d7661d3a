// The shared runtime around every venue. It consumes `orders` for its venue and submits safely (a
// timeout or a 5xx is an UNKNOWN outcome resolved by looking the order up, never by sending blindly
// again), writing the outcome to `executions` in the same Kafka transaction as the consumer offset.
// Everything else the venue says (push events, polls, reconciliation) goes through the same pure diff
// (reconcile.ts), so overlapping sources can never double a fill. Repeated failures open a breaker that
// halts the venue on `control`; probes lift the halt once the venue answers and state is reconciled.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { CancelRequest, Control, ExecutionReport, Order } from '../schemas/types.ts';
import { accountHeaders, createMutex, type OutRecord } from '../streams/runtime/consume.ts';
import { errorCode, isRetriable } from '../schemas/errors.ts';
import { faultOn } from '../streams/runtime/faults.ts';
import type { Hlc } from '../schemas/hlc.ts';
import { AccountPartitioner } from '../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../streams/runtime/tail.ts';
import type { Topics } from '../streams/runtime/topics.ts';
import { closedBreaker, connectorActor, mayResume, probeDue, stepBreaker, venueControlKey, venueStateControl, type BreakerConfig, type BreakerInput } from './breaker.ts';
import { createCancelHandler } from './cancelHandler.ts';
import { VenueError } from './http.ts';
import { instrumentBookFor } from './instrumentRules.ts';
import { createOrderLoop } from './orderLoop.ts';
import { inPool } from './pool.ts';
import { applyReport, diffOrder, knownFromOrder, type Diff, type KnownOrder } from './reconcile.ts';
import type { Stamp } from './reports.ts';
import type { VenueClient, VenueOrderRequest, VenueOrderState } from './venue.ts';
import { createVenueSync } from './venueSync.ts';

/** Retriable refusals in which the venue did answer: they do not count towards its circuit breaker. */
const VENUE_ANSWERED = new Set(['VENUE_CLOCK_SKEW', 'VENUE_OUTCOME_UNKNOWN']);

export interface ConnectorOptions {
  kafka: Kafka; codec: Codec; log: Logger; hlc: Hlc; topics: Topics; client: VenueClient;
  groupId: string; transactionalId: string; clock?: () => number;
  /** This instance's Kafka client id: its dead predecessor is removed from the group before joining (membership.ts). */
  instanceClientId?: string;
  /** Submit attempts per order before the batch is aborted and re-read. */
  submitAttempts?: number; backoffMs?: number; maxBackoffMs?: number;
  /** Orders of one batch in flight at the venue at once: a burst must not time itself out. */
  submitConcurrency?: number;
  quoteSymbols?: string[]; quoteIntervalMs?: number;
  /** Symbols whose instrument rules are read from the venue (default quoteSymbols), published and checked before an order leaves. */
  instrumentSymbols?: string[];
  /** Period of the housekeeping timer: probes, silent-stream polling, reconciliation. */
  tickMs?: number;
  /** No event nor heartbeat for this long and the push stream counts as dead: open orders are polled. */
  streamSilentMs?: number;
  reconcileIntervalMs?: number;
  /** Filled orders are re-read for corrections and busts this long after their last fill. */
  amendmentWindowMs?: number;
  /** Look-ups per reconciliation for amendments (rate limits); the rest wait for the next round. */
  amendmentLookups?: number;
  breaker?: Partial<BreakerConfig>;
  /** An order older than this when it can finally be sent is rejected (STALE_ORDER) rather than sent late. */
  maxOrderAgeMs?: number;
}

export interface ConnectorStatus { state: 'starting' | 'running' | 'halted' | 'stopped'; reason: string | null; streamSilent: boolean; knownOrders: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Any client's error may carry the venue's Retry-After as `retryAfterMs`. */
const retryAfter = (e: unknown): number => {
  const v = typeof e === 'object' && e !== null ? (e as { retryAfterMs?: unknown }).retryAfterMs : null;
  return typeof v === 'number' && v > 0 ? v : 0;
};
type Staged = Diff & { cid: string };

// The order path does not wait on the `orders` + `executions` tail (the loop hands each order over
// itself, and this instance's own reports are applied at commit), so it may gather records a while.
const STATE_TAIL_WINDOW_MS = 50;

export function createConnectorRuntime(o: ConnectorOptions) {
  const venue = o.client.venue;
  const clock = o.clock ?? Date.now;
  const cfg = {
    attempts: o.submitAttempts ?? 5, backoffMs: o.backoffMs ?? 100, maxBackoffMs: o.maxBackoffMs ?? 5_000, tickMs: o.tickMs ?? 1_000,
    streamSilentMs: o.streamSilentMs ?? 30_000, reconcileIntervalMs: o.reconcileIntervalMs ?? 60_000,
    amendmentWindowMs: o.amendmentWindowMs ?? 86_400_000, amendmentLookups: o.amendmentLookups ?? 50,
    breaker: { failuresToOpen: 5, minFailureSpanMs: 2_000, probeIntervalMs: 2_000, maxProbeIntervalMs: 30_000, ...o.breaker },
    submitConcurrency: o.submitConcurrency ?? 32,
  };
  const log = o.log.child({ venue });
  const known = new Map<string, KnownOrder>(); // by clientOrderId: the fold of `executions` (+ `orders`)
  const seen = new Set<string>(); // execution ids on `executions`
  const attempted = new Set<string>(); // submitted by this instance: a re-read looks up first
  const lock = createMutex();
  const sideProducer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
  let breaker = closedBreaker();
  let latestControl: Control | null = null;
  let state: ConnectorStatus['state'] = 'starting';
  let reconciled = false, loopStarted = false, stopped = false, ticking = false, silent = false;
  let blockedUntil = 0; // a venue's Retry-After: no call of ours goes out before it
  let unwrittenControl: { to: 'HALTED' | 'ACTIVE'; reason: string } | null = null; // retried by the timer
  let assignedAt = 0, lastReconcileAt = clock();
  let staged: Staged[] = [];
  let timer: NodeJS.Timeout | null = null, quoteTimer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  let controlTail: Tail | null = null;
  let stateTail: Tail | null = null; // `orders` + `executions`, from the beginning
  // Ownership: the `orders` partitions assigned to this instance (none before the first assignment and
  // during a rebalance). Push events and reconciliation write only for owned orders.
  const partitionOf = new Map<string, number>();
  let owned = new Set<number>();
  let stateCurrent: Promise<void> = Promise.resolve(); // `executions` read up to the last assignment
  const owns = (cid: string) => { const p = partitionOf.get(cid); return p !== undefined && owned.has(p); };

  const stamp = (): Stamp => ({ recordedAt: clock(), hlc: () => o.hlc.now() });
  const toRecord = (e: ExecutionReport): OutRecord => ({ topic: o.topics.executions, key: e.orderId, value: o.codec.encode(o.topics.executions, e), account: e.account });
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  // Test-only drop-fill fault (streams/runtime/faults.ts): the first fill this process meets is never written.
  let droppedFill: string | null = null;
  const kept = (e: ExecutionReport) => !faultOn('drop-fill') || (e.type !== 'FILL' && e.type !== 'PARTIAL_FILL') || (droppedFill ??= e.executionId) !== e.executionId;

  // ---- breaker and control ----
  function feed(input: BreakerInput): void {
    const r = stepBreaker(breaker, input, clock(), cfg.breaker);
    breaker = r.state;
    if (r.transition === 'HALT' && breaker.mode === 'OPEN') {
      state = 'halted';
      log.error({ reason: breaker.reason }, 'venue halted: circuit breaker open');
      loop.pause();
      void writeControl('HALTED', breaker.reason);
    } else if (r.transition === 'RESUME') {
      state = 'running';
      log.info('venue answers again and is reconciled: resuming');
      if (mayResume(latestControl, venue)) void writeControl('ACTIVE', 'venue reachable and reconciled');
      loop.resume();
      if (!loopStarted) void startLoop().catch((e) => log.error({ err: message(e) }, 'order loop did not start'));
    }
  }

  async function writeControl(to: 'HALTED' | 'ACTIVE', reason: string): Promise<void> {
    const c = venueStateControl(venue, to, reason, randomUUID(), clock(), o.hlc.now());
    try {
      await sideProducer.send({ topic: o.topics.control, acks: -1, messages: [{ key: venueControlKey(venue), value: o.codec.encode(o.topics.control, c), headers: accountHeaders(venue) }] });
      latestControl = c;
      unwrittenControl = null;
    } catch (e) {
      // A halt that never reaches the router is no halt: the timer writes it again.
      unwrittenControl = { to, reason };
      log.error({ err: message(e), to }, 'venue trading state not written to control; will retry');
    }
  }

  /** Every venue call goes through here: failures that say "the venue is not answering" feed the breaker. */
  async function call<T>(operation: string, fn: () => Promise<T>, probing = false): Promise<T> {
    if (breaker.mode === 'OPEN' && !probing) throw new VenueError('VENUE_HALTED', `${venue} ${operation}: venue halted (${breaker.reason})`, { venue, operation });
    if (operation === 'lookup' && faultOn('blind-resend')) return null as T; // test-only fault: never looks up
    while (clock() < blockedUntil) await sleep(blockedUntil - clock());
    try {
      const v = await fn();
      if (!probing) feed({ kind: 'success' });
      return v;
    } catch (e) {
      const wait = retryAfter(e);
      if (wait > 0) blockedUntil = Math.max(blockedUntil, clock() + wait);
      // A clock-skew refusal is the venue answering (the client re-learns the offset), and so is an
      // outcome the venue has not settled yet (a taken id its look-up does not list): neither is an outage.
      if (!probing) feed(isRetriable(e) && !VENUE_ANSWERED.has(errorCode(e)) ? { kind: 'failure', reason: `${operation}: ${message(e)}` } : { kind: 'success' });
      throw e;
    }
  }

  const sync = createVenueSync({
    client: o.client, log, clock, stamp, known, seen, attempted, owns, lock, call,
    amendmentWindowMs: cfg.amendmentWindowMs, amendmentLookups: cfg.amendmentLookups,
    async write(out) {
      if (faultOn('drop-fill')) { out = out.filter(kept); if (out.length === 0) return; }
      await sideProducer.send({ topic: o.topics.executions, acks: -1, messages: out.map((r) => {
        const rec = toRecord(r);
        return { key: rec.key, value: rec.value, headers: accountHeaders(rec.account) };
      }) });
    },
  });

  async function ensureConnected(): Promise<void> {
    if (unsubscribe) return;
    await o.client.connect();
    unsubscribe = o.client.onEvent((ev) => { sync.onVenueEvent(ev).catch((e) => log.error({ err: e }, 'venue event not recorded')); });
  }

  async function probe(): Promise<void> {
    try {
      const health = await o.client.health();
      if (!health.up) throw new Error(health.detail ?? 'health check failed');
      await ensureConnected();
      await sync.reconcile(reconciled ? 'full' : 'start', true);
      reconciled = true;
      feed({ kind: 'probe-ok' });
    } catch (e) {
      feed({ kind: 'probe-failed', reason: message(e) });
      log.warn({ err: message(e), nextProbeInMs: breaker.mode === 'OPEN' ? breaker.nextProbeAt - clock() : null }, 'venue probe failed; still halted');
    }
  }

  async function tick(): Promise<void> {
    if (ticking || stopped) return;
    ticking = true;
    try {
      const now = clock();
      if (unwrittenControl) await writeControl(unwrittenControl.to, unwrittenControl.reason);
      if (breaker.mode === 'OPEN') { if (probeDue(breaker, now)) await probe(); return; }
      const quiet = now - Math.max(sync.lastEventAt(), o.client.lastStreamActivity?.() ?? 0);
      if ((quiet > cfg.streamSilentMs) !== silent) {
        silent = !silent;
        if (silent) log.warn({ quietMs: quiet }, 'push stream silent: polling open orders');
        else log.info('push stream alive again');
      }
      if (now - lastReconcileAt >= cfg.reconcileIntervalMs) { lastReconcileAt = now; await sync.reconcile('full'); }
      else if (silent) await sync.reconcile('poll');
    } catch (e) {
      log.warn({ err: message(e) }, 'reconciliation round failed');
    } finally {
      ticking = false;
    }
  }

  // ---- the order loop ----
  // Exponential with jitter, so that instances retrying after one outage do not hit the venue in step;
  // a venue's Retry-After is already enforced in `call`.
  const backoff = (i: number) => {
    const exp = Math.min(cfg.maxBackoffMs, cfg.backoffMs * 2 ** i);
    return exp / 2 + Math.random() * (exp / 2);
  };

  /** Resolves an order at the venue exactly once, whatever fails on the way. */
  async function submitSafely(order: Order, lookupFirst: boolean): Promise<VenueOrderState> {
    const req: VenueOrderRequest = {
      clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, quantity: order.quantity,
      orderType: order.orderType, limitPrice: order.limitPrice, timeInForce: order.timeInForce,
      stopPrice: order.stopPrice, trailAmount: order.trailAmount, trailPercent: order.trailPercent,
    };
    let lastError: unknown;
    for (let i = 0; i < cfg.attempts; i++) {
      try {
        // After any failure the outcome may be unknown: the venue may hold the order already.
        if (i > 0 || lookupFirst) {
          const found = await call('lookup', () => o.client.lookup(order.clientOrderId, order.symbol));
          if (found) return found;
        }
        attempted.add(order.clientOrderId);
        return await call('submit', () => o.client.submit(req));
      } catch (e) {
        lastError = e;
        if (!isRetriable(e) || breaker.mode === 'OPEN') throw e;
        log.warn({ clientOrderId: order.clientOrderId, attempt: i + 1, code: errorCode(e) }, 'submit outcome unknown or refused for now; will look up before any resend');
        await sleep(backoff(i));
      }
    }
    throw lastError;
  }

  const rejected = (order: Order, reason: string): VenueOrderState => ({
    clientOrderId: order.clientOrderId, venueOrderId: '', symbol: order.symbol, side: order.side, quantity: order.quantity,
    status: 'REJECTED', filledQty: 0, fills: [], rejectReason: reason, venueTime: clock(),
  });

  async function handleOrder(order: Order): Promise<Staged> {
    const cid = order.clientOrderId;
    let k = known.get(cid);
    if (!k) { k = knownFromOrder(order); known.set(cid, k); sync.flushParked(cid); }
    if (k.acked || k.rejected) return { cid, reports: [], next: k }; // its outcome is recorded already
    const lookupFirst = attempted.has(cid) || order.createdAt <= assignedAt;
    const observedAt = clock();
    try {
      if (o.maxOrderAgeMs !== undefined && observedAt - order.createdAt > o.maxOrderAgeMs) {
        const found = lookupFirst ? await call('lookup', () => o.client.lookup(cid, order.symbol)) : null;
        return { cid, ...diffOrder(k, found ?? rejected(order, 'STALE_ORDER'), observedAt, stamp()) };
      }
      // The venue's own rules, before the order leaves (an order that may be out already is looked up instead).
      const breach = lookupFirst ? null : instruments?.refusal(order) ?? null;
      if (breach) return { cid, ...diffOrder(k, rejected(order, breach), observedAt, stamp()) };
      return { cid, ...diffOrder(k, await submitSafely(order, lookupFirst), observedAt, stamp()) };
    } catch (e) {
      if (isRetriable(e)) throw e; // venue unreachable: abort; the order is re-read once it answers
      const venueCode = e instanceof VenueError && e.venueCode ? `:${e.venueCode}` : '';
      log.warn({ clientOrderId: cid, code: errorCode(e), err: message(e) }, 'order refused by the venue');
      return { cid, ...diffOrder(k, rejected(order, `${errorCode(e)}${venueCode}`), observedAt, stamp()) };
    }
  }

  const instruments = instrumentBookFor(o.client, { symbols: o.instrumentSymbols ?? o.quoteSymbols ?? [], producer: sideProducer, codec: o.codec, topic: o.topics.instruments, hlc: () => o.hlc.now(), log });
  const cancels = createCancelHandler({ client: o.client, codec: o.codec, log, clock, stamp, call, known });

  const loop = createOrderLoop({
    kafka: o.kafka, log, groupId: o.groupId, transactionalId: o.transactionalId, instanceClientId: o.instanceClientId, topic: o.topics.orders,
    cancelTopic: o.topics.cancelRequests,
    serialize: lock,
    onRebalancing() { owned = new Set(); },
    onAssigned(partitions) {
      assignedAt = clock();
      owned = new Set(partitions);
      // Before the first order of the new assignment: what the previous owner wrote is read, then its
      // unfinished orders are looked up (their push events went to nobody during the handover).
      stateCurrent = (stateTail?.sync() ?? Promise.resolve()).catch((e) => log.warn({ err: message(e) }, 'executions not re-read on assignment'));
      void stateCurrent.then(() => sync.reconcile('start')).catch((e) => log.warn({ err: message(e) }, 'reconciliation after assignment failed; the timer retries'));
    },
    async handle(batches) {
      staged = [];
      await stateCurrent;
      if (breaker.mode === 'OPEN') throw new VenueError('VENUE_HALTED', `${venue}: halted (${breaker.reason}); orders wait`, { venue, operation: 'submit' });
      const orders: Order[] = [];
      const cancelRequests: CancelRequest[] = [];
      for (const b of batches) {
        if (b.topic !== o.topics.orders) { cancelRequests.push(...await cancels.decode(b.messages)); continue; }
        for (const ord of await Promise.all(b.messages.map((m) => o.codec.decode('Order', m.value!)))) {
          if (ord.venue !== venue) continue;
          partitionOf.set(ord.clientOrderId, b.partition);
          orders.push(ord);
        }
      }
      const unique = [...new Map(orders.map((ord) => [ord.clientOrderId, ord])).values()];
      const results = await inPool(unique, cfg.submitConcurrency, handleOrder);
      results.push(...await cancels.handleAll(cancelRequests, results)); // after the orders they may name
      staged = results;
      return results.flatMap((r) => r.reports.filter((x) => !seen.has(x.executionId) && kept(x))).map(toRecord);
    },
    onCommitted() {
      for (const r of staged) { known.set(r.cid, r.next); for (const x of r.reports) seen.add(x.executionId); }
      staged = [];
    },
    onAbort(e) { staged = []; log.warn({ err: message(e) }, 'order batch aborted; it will be read again'); },
  });

  async function startLoop(): Promise<void> {
    if (loopStarted || stopped) return;
    loopStarted = true;
    assignedAt = clock();
    await loop.start();
    state = 'running';
    log.info({ known: known.size }, 'connector consuming orders');
  }

  async function publishQuotes(): Promise<void> {
    if (!o.client.quotes || !o.quoteSymbols?.length || breaker.mode === 'OPEN') return;
    const quotes = await o.client.quotes(o.quoteSymbols);
    await sideProducer.send({ topic: o.topics.quotes, messages: quotes.map((q) => ({
      key: `${venue}|${q.symbol}`, headers: accountHeaders(`${venue}|${q.symbol}`),
      value: o.codec.encode(o.topics.quotes, { venue, symbol: q.symbol, bid: q.bid, ask: q.ask, bidSize: q.bidSize, askSize: q.askSize, venueTime: q.venueTime, hlc: o.hlc.now() }),
    })) });
  }

  return {
    async start() {
      // What `orders` and `executions` hold for this venue: the starting point of every diff, kept
      // current while running so that a partition taken over from another instance is diffed against
      // what that instance wrote.
      stateTail = await startTail(o.kafka, [o.topics.orders, o.topics.executions], async (topic, m, partition) => {
        if (topic === o.topics.orders) {
          const ord = await o.codec.decode('Order', m.value!);
          if (ord.venue !== venue) return;
          partitionOf.set(ord.clientOrderId, partition);
          const k = known.get(ord.clientOrderId);
          known.set(ord.clientOrderId, k ? { ...k, quantity: ord.quantity } : knownFromOrder(ord));
          if (!k) sync.flushParked(ord.clientOrderId);
          return;
        }
        const e = await o.codec.decode('ExecutionReport', m.value!);
        if (e.venue !== venue || seen.has(e.executionId)) return;
        seen.add(e.executionId);
        known.set(e.clientOrderId, applyReport(known.get(e.clientOrderId), e));
      }, { coalesceMs: STATE_TAIL_WINDOW_MS });
      await stateTail.caughtUp;
      controlTail = await startTail(o.kafka, [o.topics.control], async (_t, m) => {
        if (m.key?.toString() === venueControlKey(venue) && m.value) latestControl = await o.codec.decode('Control', m.value);
      });
      await controlTail.caughtUp;
      await sideProducer.connect();
      await instruments?.start();
      try {
        await ensureConnected();
        await sync.reconcile('start');
        reconciled = true;
      } catch (e) {
        // Fail closed: without knowing what the venue holds, sending more could double what it has.
        const reason = `cannot reconcile with ${venue} on start: ${message(e)}`;
        log.error({ err: message(e) }, `${reason}; not consuming orders until it answers`);
        feed({ kind: 'trip', reason });
      }
      timer = setInterval(() => { void tick(); }, cfg.tickMs);
      if (o.quoteSymbols?.length) {
        quoteTimer = setInterval(() => { publishQuotes().catch((e) => log.warn({ err: message(e) }, 'quotes not published')); }, o.quoteIntervalMs ?? 500);
      }
      if (breaker.mode === 'CLOSED') {
        if (latestControl?.state === 'HALTED' && latestControl.actor === connectorActor(venue)) await writeControl('ACTIVE', 'reconciled on start');
        await startLoop();
      }
    },
    status: (): ConnectorStatus => ({ state, reason: breaker.mode === 'OPEN' ? breaker.reason : null, streamSilent: silent, knownOrders: known.size }),
    async stop() {
      stopped = true;
      state = 'stopped';
      if (timer) clearInterval(timer);
      if (quoteTimer) clearInterval(quoteTimer);
      instruments?.stop();
      unsubscribe?.();
      if (loopStarted) await loop.stop();
      await lock(async () => {});
      while (ticking) await sleep(10);
      await controlTail?.stop();
      await stateTail?.stop();
      await sideProducer.disconnect();
      await o.client.disconnect();
    },
  };
}

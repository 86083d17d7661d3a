// The shared runtime around every venue. It consumes `orders` for its venue and submits safely (a
// timeout or a 5xx is an UNKNOWN outcome resolved by looking the order up, never by sending blindly
// again), writing the outcome to `executions` in the same Kafka transaction as the consumer offset.
// Everything else the venue says (push events, polls, reconciliation) goes through the same pure diff
// (reconcile.ts), so overlapping sources can never double a fill. Repeated failures open a breaker that
// halts the venue on `control`; probes lift the halt once the venue answers and state is reconciled.
// This file is the coordinator (lifecycle, order-loop wiring); named parts own their state: the ledger of
// orders and ownership (ledger.ts), the venue-call gate (venueGate.ts), the order submitter
// (orderSubmitter.ts), the orders of unknown outcome (unknownOutcomes.ts), the control writer, the quote
// publisher.
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { CancelRequest, ExecutionReport, Order } from '../schemas/types.ts';
import { accountHeaders, createMutex, type OutRecord } from '../streams/runtime/consume.ts';
import { faultOn } from '../streams/runtime/faults.ts';
import type { Hlc } from '../schemas/hlc.ts';
import { AccountPartitioner } from '../streams/runtime/kafka.ts';
import type { Tail } from '../streams/runtime/tail.ts';
import type { Topics } from '../schemas/topics.ts';
import { connectorActor, mayResume, probeDue, type BreakerConfig } from './breaker.ts';
import { createCancelHandler } from './cancelHandler.ts';
import { createControlWriter } from './controlWriter.ts';
import { VenueError } from './http.ts';
import { instrumentBookFor } from './instrumentRules.ts';
import { createOrderLedger } from './ledger.ts';
import { createOrderLoop } from './orderLoop.ts';
import { createOrderSubmitter, type Staged } from './orderSubmitter.ts';
import { createQuotePublisher } from './quotePublisher.ts';
import type { Stamp } from './reports.ts';
import { startStateTails, syncWithin } from './stateTails.ts';
import { createUnknownOutcomes } from './unknownOutcomes.ts';
import type { VenueClient } from './venue.ts';
import { hasInconclusiveAbsence } from './venueCapabilities.ts';
import { createVenueGate, message, sleep } from './venueGate.ts';
import { createVenueSync } from './venueSync.ts';

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
  /** How often orders recorded as of unknown outcome are looked up (unknownOutcomes.ts). */
  unknownLookupMs?: number;
}

// For this long after an assignment, a write outside the order loop first reads `executions` up to
// now (venueSync settle): the previous owner's last write may have been in flight at the handover. The
// wait is bounded so that a transaction left open by a killed instance cannot hold the lock; past it
// the write goes ahead on what was read (the previous owner stops recording before it leaves the group
// on a clean stop, so this covers a rebalance under a running owner).
const HANDOVER_RESYNC_MS = 10_000;
const RESYNC_WAIT_MS = 2_000;

export interface ConnectorStatus { state: 'starting' | 'running' | 'halted' | 'stopped'; reason: string | null; streamSilent: boolean; knownOrders: number }

export function createConnectorRuntime(o: ConnectorOptions) {
  const venue = o.client.venue;
  const clock = o.clock ?? Date.now;
  const cfg = {
    attempts: o.submitAttempts ?? 5, backoffMs: o.backoffMs ?? 100, maxBackoffMs: o.maxBackoffMs ?? 5_000, tickMs: o.tickMs ?? 1_000,
    streamSilentMs: o.streamSilentMs ?? 30_000, reconcileIntervalMs: o.reconcileIntervalMs ?? 60_000,
    amendmentWindowMs: o.amendmentWindowMs ?? 86_400_000, amendmentLookups: o.amendmentLookups ?? 50,
    breaker: { failuresToOpen: 5, minFailureSpanMs: 2_000, probeIntervalMs: 2_000, maxProbeIntervalMs: 30_000, ...o.breaker },
    submitConcurrency: o.submitConcurrency ?? 32, unknownLookupMs: o.unknownLookupMs ?? 2_000,
  };
  const log = o.log.child({ venue });
  // What this instance knows of its orders, which it sent, and which partitions it owns: push events and
  // reconciliation write only for owned orders (none before the first assignment and during a rebalance).
  const ledger = createOrderLedger();
  const lock = createMutex();
  const sideProducer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
  let state: ConnectorStatus['state'] = 'starting';
  let reconciled = false, loopStarted = false, stopped = false, ticking = false, silent = false;
  let assignedAt = 0, lastReconcileAt = clock(), lastUnknownAt = 0;
  let staged: Staged[] = [];
  let timer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  let controlTail: Tail | null = null;
  let stateTail: Tail | null = null; // `orders` + `executions`, from the beginning
  let stateCurrent: Promise<void> = Promise.resolve(); // `executions` read up to the last assignment

  const stamp = (): Stamp => ({ recordedAt: clock(), hlc: () => o.hlc.now() });
  const toRecord = (e: ExecutionReport): OutRecord => ({ topic: o.topics.executions, key: e.orderId, value: o.codec.encode(o.topics.executions, e), account: e.account });
  // Test-only drop-fill fault (streams/runtime/faults.ts): the first fill this process meets is never written.
  let droppedFill: string | null = null;
  const kept = (e: ExecutionReport) => !faultOn('drop-fill') || (e.type !== 'FILL' && e.type !== 'PARTIAL_FILL') || (droppedFill ??= e.executionId) !== e.executionId;

  // ---- the named parts (the submitter is built beside the order loop) ----
  const control = createControlWriter({ venue, producer: sideProducer, codec: o.codec, topic: o.topics.control, log, clock, hlc: () => o.hlc.now() });
  const gate = createVenueGate({
    venue, clock, breaker: cfg.breaker,
    onHalt(reason) {
      state = 'halted';
      log.error({ reason }, 'venue halted: circuit breaker open');
      loop.pause();
      void control.write('HALTED', reason);
    },
    onResume() {
      state = 'running';
      log.info('venue answers again and is reconciled: resuming');
      if (mayResume(control.latest(), venue)) void control.write('ACTIVE', 'venue reachable and reconciled');
      loop.resume();
      if (!loopStarted) void startLoop().catch((e) => log.error({ err: message(e) }, 'order loop did not start'));
    },
  });
  const quotes = createQuotePublisher({
    client: o.client, producer: sideProducer, codec: o.codec, topic: o.topics.quotes, log, hlc: () => o.hlc.now(),
    symbols: o.quoteSymbols, intervalMs: o.quoteIntervalMs, halted: gate.isOpen,
  });

  const sync = createVenueSync({
    client: o.client, log, clock, stamp, ledger, lock, call: gate.call,
    amendmentWindowMs: cfg.amendmentWindowMs, amendmentLookups: cfg.amendmentLookups,
    settle: () => (stateTail && clock() - assignedAt < HANDOVER_RESYNC_MS ? syncWithin(stateTail, [o.topics.executions], RESYNC_WAIT_MS, log) : null),
    async write(out) {
      if (faultOn('drop-fill')) { out = out.filter(kept); if (out.length === 0) return; }
      await sideProducer.send({ topic: o.topics.executions, acks: -1, messages: out.map((r) => {
        const rec = toRecord(r);
        return { key: rec.key, value: rec.value, headers: accountHeaders(rec.account) };
      }) });
    },
  });

  const unknowns = createUnknownOutcomes({
    venue, producer: sideProducer, codec: o.codec, topic: o.topics.control, log, clock, hlc: () => o.hlc.now(), ledger, lookUp: (cids, venueIds) => sync.pollOrders(cids, false, venueIds), record: (cid, state) => sync.record(cid, state),
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
      gate.feed({ kind: 'probe-ok' });
    } catch (e) {
      gate.feed({ kind: 'probe-failed', reason: message(e) });
      log.warn({ err: message(e), nextProbeInMs: gate.breaker.mode === 'OPEN' ? gate.breaker.nextProbeAt - clock() : null }, 'venue probe failed; still halted');
    }
  }

  async function tick(): Promise<void> {
    if (ticking || stopped) return;
    ticking = true;
    try {
      const now = clock();
      await control.retryUnwritten();
      if (gate.breaker.mode === 'OPEN') { if (probeDue(gate.breaker, now)) await probe(); return; }
      const quiet = now - Math.max(sync.lastEventAt(), o.client.lastStreamActivity?.() ?? 0);
      if ((quiet > cfg.streamSilentMs) !== silent) {
        silent = !silent;
        if (silent) log.warn({ quietMs: quiet }, 'push stream silent: polling open orders');
        else log.info('push stream alive again');
      }
      if (now - lastReconcileAt >= cfg.reconcileIntervalMs) { lastReconcileAt = now; await sync.reconcile('full'); }
      else if (silent) await sync.reconcile('poll');
      if (now - lastUnknownAt >= cfg.unknownLookupMs) { lastUnknownAt = now; await unknowns.round(); }
    } catch (e) {
      log.warn({ err: message(e) }, 'reconciliation round failed');
    } finally {
      ticking = false;
    }
  }

  // ---- the order loop ----
  const submitter = createOrderSubmitter({
    client: o.client, gate, log, clock, stamp, ledger, flushParked: sync.flushParked, isUnknown: unknowns.isParked,
    ...(hasInconclusiveAbsence(o.client) ? { beforeSend: unknowns.markSending, sentBefore: unknowns.sentBefore } : {}),
    instruments: () => instruments, assignedAt: () => assignedAt,
    attempts: cfg.attempts, backoffMs: cfg.backoffMs, maxBackoffMs: cfg.maxBackoffMs, maxOrderAgeMs: o.maxOrderAgeMs,
  });
  const instruments = instrumentBookFor(o.client, { symbols: o.instrumentSymbols ?? o.quoteSymbols ?? [], producer: sideProducer, codec: o.codec, topic: o.topics.instruments, hlc: () => o.hlc.now(), log });
  const cancels = createCancelHandler({ client: o.client, codec: o.codec, log, clock, stamp, call: gate.call, ledger });

  const loop = createOrderLoop({
    kafka: o.kafka, log, groupId: o.groupId, transactionalId: o.transactionalId, instanceClientId: o.instanceClientId, topic: o.topics.orders,
    cancelTopic: o.topics.cancelRequests,
    serialize: lock,
    onRebalancing() { ledger.release(); },
    onAssigned(partitions) {
      assignedAt = clock();
      ledger.own(stopped ? [] : partitions); // a rebalance that ends while stopping gives nothing to record
      // Before the first order of the new assignment: what the previous owner wrote is read, then its
      // unfinished orders are looked up (their push events went to nobody during the handover).
      stateCurrent = (stateTail?.sync() ?? Promise.resolve()).catch((e) => log.warn({ err: message(e) }, 'executions not re-read on assignment'));
      void stateCurrent.then(() => sync.reconcile('start')).catch((e) => log.warn({ err: message(e) }, 'reconciliation after assignment failed; the timer retries'));
    },
    async handle(batches) {
      staged = [];
      await stateCurrent;
      if (gate.breaker.mode === 'OPEN') throw new VenueError('VENUE_HALTED', `${venue}: halted (${gate.breaker.reason}); orders wait`, { venue, operation: 'submit' });
      const orders: Order[] = [];
      const cancelRequests: CancelRequest[] = [];
      for (const b of batches) {
        if (b.topic !== o.topics.orders) { cancelRequests.push(...await cancels.decode(b.messages)); continue; }
        for (const ord of await Promise.all(b.messages.map((m) => o.codec.decode('Order', m.value!)))) {
          if (ord.venue !== venue) continue;
          if (ledger.noteOrder(ord, b.partition)) sync.flushParked(ord.clientOrderId);
          orders.push(ord);
        }
      }
      const unique = [...new Map(orders.map((ord) => [ord.clientOrderId, ord])).values()];
      // Exit pairs as one native OCO where the venue has it; cancels of resting orders before them (cancelHandler.ts).
      const results: Staged[] = await cancels.aroundOrders(cancelRequests, new Set(unique.map((ord) => ord.orderId)), () => submitter.handleBatch(unique, cfg.submitConcurrency));
      staged = results;
      // An order of unknown outcome is parked on `control` in this same transaction.
      return results.flatMap((r) => [...ledger.unrecorded(r.reports).filter(kept).map(toRecord), ...(r.unknown ? [unknowns.record(r.unknown)] : [])]);
    },
    onCommitted() {
      for (const r of staged) { ledger.recorded(r.cid, r.next, r.reports); if (r.unknown) unknowns.parked(r.unknown); }
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
    log.info({ known: ledger.size }, 'connector consuming orders');
  }

  return {
    async start() {
      ({ state: stateTail, control: controlTail } = await startStateTails({
        kafka: o.kafka, codec: o.codec, topics: o.topics, venue, ledger, flushParked: sync.flushParked, onVenueState: control.observe, outcomes: unknowns,
      }));
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
        gate.feed({ kind: 'trip', reason });
      }
      timer = setInterval(() => { void tick(); }, cfg.tickMs);
      quotes.start();
      if (gate.breaker.mode === 'CLOSED') {
        const latest = control.latest();
        if (latest?.state === 'HALTED' && latest.actor === connectorActor(venue)) await control.write('ACTIVE', 'reconciled on start');
        await startLoop();
      }
    },
    /** Orders recorded as of unknown outcome at this venue, oldest first. */
    unknownOrders: () => unknowns.list(),
    status: (): ConnectorStatus => ({ state, reason: gate.breaker.mode === 'OPEN' ? gate.breaker.reason : null, streamSilent: silent, knownOrders: ledger.size }),
    async stop() {
      stopped = true;
      state = 'stopped';
      if (timer) clearInterval(timer);
      quotes.stop();
      instruments?.stop();
      unsubscribe?.();
      // This instance stops recording for its partitions before it leaves the group: once it has left,
      // the next owner records them, and a look-up or push event still in flight here would write a
      // fill that instance writes too. Releasing first, then draining the lock, leaves nothing in flight.
      if (!faultOn('late-release')) { ledger.release(); await lock(async () => {}); }
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

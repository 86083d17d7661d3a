// The decide processor: `signals` → risk gate → router → `risk-decisions` + `orders` (+ `control` on a
// loss breach), one Kafka transaction per batch with the consumer offsets inside. It holds no rules:
// it decodes, keeps the gate's state current from the topics, calls `decide`, and writes what it returns.
//
// State: on start, every decision and order is read to the end (so fills find their orders), then one
// tail follows control, instruments, quotes, executions, decisions and orders from the beginning for as long as the
// processor runs. Every instance therefore folds every account's books, and a partition handed over in
// a rebalance only needs the tail to reach the end of `risk-decisions` (see loop.ts) before deciding.
import { createHash } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import type { CancelRequest, Control, DeadLetter, Order, RiskDecision, Signal } from '../../schemas/types.ts';
import { readToEnd, type OutRecord } from '../runtime/consume.ts';
import { errorCode } from '../../schemas/errors.ts';
import { faultOn } from '../runtime/faults.ts';
import type { Hlc } from '../../schemas/hlc.ts';
import type { Topics } from '../../schemas/topics.ts';
import type { ControlConfig } from './config.ts';
import { applyControl, defaultControlConfig } from './controlFold.ts';
import { applyInstrument } from './instrumentFold.ts';
import { decide } from './decide.ts';
import { startLogTail, type LogTail } from './logTail.ts';
import { createPartitionedLoop } from './loop.ts';
import { shadowHeaders } from '../shadow/headers.ts';
import { evolveGate, hasDecided, initialGateState, utcDay, type GateState } from './state.ts';
import { controlRecord as controlRecordFor } from '../control/publisher.ts';

export interface DecideProcessorOptions {
  kafka: Kafka; codec: Codec; log: Logger; hlc: Hlc; topics: Topics; groupId: string;
  /** Shared by all instances; one transactional id per signals partition is derived from it (loop.ts). */
  transactionalIdBase: string;
  /** This instance's Kafka client id: its dead predecessor is removed from the group before joining (membership.ts). */
  instanceClientId?: string;
  clock?: () => number; initialConfig?: ControlConfig;
}

/** Deterministic ids: a batch re-read after an abort, or by another instance, mints the same ids again. */
const idsFor = (signalId: string) => {
  const h = createHash('sha256').update(signalId).digest('hex').slice(0, 32);
  return { decisionId: `dec-${h}`, orderId: `ord-${h}` };
};

export function createDecideProcessor(o: DecideProcessorOptions) {
  const clock = o.clock ?? Date.now;
  const { topics, codec } = o;
  let state: GateState = initialGateState();
  let config: ControlConfig = o.initialConfig ?? defaultControlConfig();
  let tail: LogTail | null = null;
  /** False from the start of a rebuild until it completes: no decision is made from partial state. */
  let ready = false;
  const applyDecided = (decision: RiskDecision, order: Order | null) =>
    evolveGate(state, { kind: 'decided', decision, order, alertTime: decision.alertTime }, config.costModel.ewmaAlpha);

  /** Today's P&L, de-duplication sets and rate windows roll at UTC midnight. */
  const rollDay = (now: number) => evolveGate(state, { kind: 'dayRoll', day: utcDay(now) });

  async function onRecord(topic: string, m: KafkaMessage): Promise<void> {
    if (m.value === null) return;
    try {
      switch (topic) {
        case topics.control: config = applyControl(config, await codec.decode('Control', m.value)); return;
        // The venues' own rules, merged into the router's listings (instrumentFold.ts).
        case topics.instruments: config = applyInstrument(config, await codec.decode('Instrument', m.value)); return;
        case topics.quotes: evolveGate(state, { kind: 'quote', quote: await codec.decode('Quote', m.value) }); return;
        case topics.executions:
          evolveGate(state, { kind: 'execution', report: await codec.decode('ExecutionReport', m.value) }, config.costModel.ewmaAlpha);
          return;
        case topics.riskDecisions: applyDecided(await codec.decode('RiskDecision', m.value), null); return;
        case topics.orders: evolveGate(state, { kind: 'order', order: await codec.decode('Order', m.value) }); return;
        default: o.log.warn({ topic }, 'record from an unexpected topic');
      }
    } catch (e) {
      o.log.error({ err: e, topic, offset: m.offset }, 'state record skipped');
    }
  }

  /** Everything the gate knows, from the log: own decisions first, then the tail of every input. */
  async function rebuild(): Promise<void> {
    ready = false;
    await tail?.stop();
    tail = null;
    state = initialGateState();
    config = o.initialConfig ?? defaultControlConfig();
    const decisions: RiskDecision[] = [];
    const orders = new Map<string, Order>();
    await readToEnd(o.kafka, [topics.riskDecisions, topics.orders], async (topic, m) => {
      if (m.value === null) return;
      if (topic === topics.riskDecisions) decisions.push(await codec.decode('RiskDecision', m.value));
      else { const ord = await codec.decode('Order', m.value); orders.set(ord.orderId, ord); }
    });
    decisions.sort((a, b) => a.hlc - b.hlc);
    for (const d of decisions) applyDecided(d, d.orderId ? orders.get(d.orderId) ?? null : null);
    // Executions read from here on that were recorded before today count in the day's start, not its P&L.
    rollDay(clock());
    tail = await startLogTail(o.kafka, [topics.control, topics.instruments, topics.quotes, topics.executions, topics.riskDecisions, topics.orders], onRecord, o.log);
    await tail.caughtUp;
    ready = true;
    o.log.info({ decisions: decisions.length }, 'gate state rebuilt');
  }

  async function handle(messages: KafkaMessage[], partition: number): Promise<OutRecord[]> {
    // The rebuild after an abort failed: abort this batch too, and the loop rebuilds (alone) before it is read again.
    if (!ready) throw new Error('gate state is being rebuilt; batch aborted');
    const out: OutRecord[] = [];
    for (const m of messages) {
      let signal: Signal;
      try {
        signal = await codec.decode('Signal', m.value!);
      } catch (e) {
        out.push(deadLetter(m, partition, e));
        continue;
      }
      if (hasDecided(state, signal.signalId)) continue; // a repeat, or decided by the partition's previous owner
      const now = clock();
      rollDay(now);
      const result = decide({ signal, now, hlc: o.hlc.now(), ...idsFor(signal.signalId) }, state, config);
      // Applied now so later signals see them; undone by a rebuild if the transaction aborts.
      applyDecided(result.decision, result.order);
      for (const c of result.controls) config = applyControl(config, c);
      out.push({ topic: topics.riskDecisions, key: signal.signalId, value: codec.encode(topics.riskDecisions, result.decision), account: signal.account });
      if (result.order) out.push({ topic: topics.orders, key: result.order.orderId, value: codec.encode(topics.orders, result.order), account: signal.account });
      // Twins ride the same transaction: a live order exists exactly when its shadow twins do.
      for (const t of result.shadows) {
        out.push({ topic: topics.ordersShadow, key: t.order.orderId, value: codec.encode(topics.ordersShadow, t.order), account: signal.account, headers: shadowHeaders(t) });
      }
      for (const c of result.controls) out.push(controlRecord(c));
      // A cancel alert's requests (and an exit's cancels of its bracket exits) ride the decision's transaction: asked exactly when it is decided, with
      // ids derived from the decision so that a rebuilt batch asks with the same ones.
      for (const t of result.cancels) {
        const request: CancelRequest = {
          requestId: `${result.decision.decisionId}:${t.orderId}`, orderId: t.orderId, clientOrderId: null, account: t.account, venue: t.venue,
          symbol: t.symbol, source: 'alert', actor: signal.strategy, reason: `${signal.intent === 'CANCEL' ? 'cancel' : 'exit'} alert ${signal.signalId}`, requestedAt: now, hlc: result.decision.hlc,
        };
        out.push({ topic: topics.cancelRequests, key: t.orderId, value: codec.encode(topics.cancelRequests, request), account: t.account });
      }
    }
    // Test-only double-decision fault (runtime/faults.ts): every decision and order written twice.
    if (faultOn('double-decision')) return out.flatMap((r) => (r.topic === topics.riskDecisions || r.topic === topics.orders ? [r, r] : [r]));
    return out;
  }

  const controlRecord = (c: Control): OutRecord => controlRecordFor(codec, topics.control, c);

  function deadLetter(m: KafkaMessage, partition: number, e: unknown): OutRecord {
    const dl: DeadLetter = {
      sourceTopic: topics.signals, partition, offset: m.offset, processor: 'decide', errorCode: errorCode(e),
      errorMessage: e instanceof Error ? e.message : String(e), key: m.key, value: m.value, at: clock(),
    };
    o.log.error({ partition, offset: m.offset, code: dl.errorCode }, 'signal sent to the dead-letter topic');
    return { topic: topics.deadLetters, key: m.key?.toString() ?? '', value: codec.encode(topics.deadLetters, dl), account: String(partition) };
  }

  const loop = createPartitionedLoop({
    kafka: o.kafka, log: o.log, groupId: o.groupId, transactionalIdBase: o.transactionalIdBase, instanceClientId: o.instanceClientId, topic: topics.signals, handle,
    async onAssigned(partitions, keepAlive) {
      if (!ready) await rebuild();
      await tail!.barrier([topics.riskDecisions, topics.orders], keepAlive);
      o.log.info({ partitions }, 'state current for the assigned partitions');
    },
    async onAbort() { await rebuild(); },
  });

  return {
    async start() {
      await rebuild();
      await loop.start();
    },
    async stop() {
      await loop.stop();
      await tail?.stop();
    },
    /** For tests and the ops API: the gate's current view. */
    state: () => state,
    config: () => config,
  };
}

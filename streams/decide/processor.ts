// The decide processor: `signals` → risk gate → router → `risk-decisions` + `orders`, one Kafka
// transaction per batch with the consumer offsets inside (exactly-once). It holds no rules: it decodes,
// keeps the gate's state current from the topics, calls `decide`, and writes what it returns.
import { createHash } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import type { Control, DeadLetter, Order, RiskDecision, Signal } from '../../schemas/types.ts';
import { createTransactionalLoop, readToEnd, type OutRecord } from '../runtime/consume.ts';
import { errorCode } from '../runtime/errors.ts';
import type { Hlc } from '../runtime/hlc.ts';
import { startTail, type Tail } from '../runtime/tail.ts';
import type { Topics } from '../runtime/topics.ts';
import { applyControl, defaultControlConfig, type ControlConfig } from './config.ts';
import { decide } from './decide.ts';
import { evolveGate, hasDecided, initialGateState, type GateState } from './state.ts';

export interface DecideProcessorOptions {
  kafka: Kafka; codec: Codec; log: Logger; hlc: Hlc; topics: Topics; groupId: string; transactionalId: string;
  clock?: () => number; initialConfig?: ControlConfig;
}

/** Deterministic ids: a batch re-read after an abort mints the same ids again. */
const idsFor = (signalId: string) => {
  const h = createHash('sha256').update(signalId).digest('hex').slice(0, 32);
  return { decisionId: `dec-${h}`, orderId: `ord-${h}` };
};

export function createDecideProcessor(o: DecideProcessorOptions) {
  const clock = o.clock ?? Date.now;
  const { topics, codec } = o;
  let state: GateState = initialGateState();
  let config: ControlConfig = o.initialConfig ?? defaultControlConfig();
  let tail: Tail | null = null;
  const applyDecided = (decision: RiskDecision, order: Order | null) =>
    evolveGate(state, { kind: 'decided', decision, order, alertTime: decision.alertTime }, config.costModel.ewmaAlpha);

  /** Today's P&L, de-duplication sets and rate windows roll at UTC midnight. */
  const rollDay = (now: number) => {
    const day = new Date(now).toISOString().slice(0, 10);
    if (state.day !== day) evolveGate(state, { kind: 'dayRoll', day });
  };

  /** Everything the gate knows, from the log: own decisions first, then control, quotes and executions. */
  async function rebuild(): Promise<void> {
    await tail?.stop();
    state = initialGateState();
    config = o.initialConfig ?? defaultControlConfig();
    const decisions: RiskDecision[] = [];
    const orders = new Map<string, Order>();
    await readToEnd(o.kafka, [topics.riskDecisions, topics.orders], async (topic, m) => {
      if (topic === topics.riskDecisions) decisions.push(await codec.decode('RiskDecision', m.value!));
      else { const ord = await codec.decode('Order', m.value!); orders.set(ord.orderId, ord); }
    });
    decisions.sort((a, b) => a.hlc - b.hlc);
    for (const d of decisions) {
      rollDay(d.decidedAt);
      applyDecided(d, d.orderId ? orders.get(d.orderId) ?? null : null);
    }
    rollDay(clock());
    tail = await startTail(o.kafka, [topics.control, topics.quotes, topics.executions], async (topic, m) => {
      if (m.value === null) return;
      try {
        if (topic === topics.control) config = applyControl(config, await codec.decode('Control', m.value));
        else if (topic === topics.quotes) evolveGate(state, { kind: 'quote', quote: await codec.decode('Quote', m.value) });
        else evolveGate(state, { kind: 'execution', report: await codec.decode('ExecutionReport', m.value) }, config.costModel.ewmaAlpha);
      } catch (e) {
        o.log.error({ err: e, topic, offset: m.offset }, 'state record skipped');
      }
    });
    await tail.caughtUp;
    o.log.info({ decisions: decisions.length }, 'gate state rebuilt');
  }

  async function handle(messages: KafkaMessage[], partition: number): Promise<OutRecord[]> {
    const out: OutRecord[] = [];
    for (const m of messages) {
      let signal: Signal;
      try {
        signal = await codec.decode('Signal', m.value!);
      } catch (e) {
        out.push(deadLetter(m, partition, e));
        continue;
      }
      if (hasDecided(state, signal.signalId)) continue; // a repeat: decided once, never again
      const now = clock();
      rollDay(now);
      const result = decide({ signal, now, hlc: o.hlc.now(), ...idsFor(signal.signalId) }, state, config);
      // Applied now so later signals of the batch see it; undone by a rebuild if the batch aborts.
      applyDecided(result.decision, result.order);
      out.push({ topic: topics.riskDecisions, key: signal.signalId, value: codec.encode(topics.riskDecisions, result.decision), account: signal.account });
      if (result.order) out.push({ topic: topics.orders, key: result.order.orderId, value: codec.encode(topics.orders, result.order), account: signal.account });
      for (const c of result.controls) out.push(controlRecord(c));
    }
    return out;
  }

  const controlRecord = (c: Control): OutRecord => ({
    topic: topics.control, key: `${c.kind}|${c.scope}|${c.target}`, value: codec.encode(topics.control, c), account: c.target,
  });

  function deadLetter(m: KafkaMessage, partition: number, e: unknown): OutRecord {
    const dl: DeadLetter = {
      sourceTopic: topics.signals, partition, offset: m.offset, processor: 'decide', errorCode: errorCode(e),
      errorMessage: e instanceof Error ? e.message : String(e), key: m.key, value: m.value, at: clock(),
    };
    o.log.error({ partition, offset: m.offset, code: dl.errorCode }, 'signal sent to the dead-letter topic');
    return { topic: topics.deadLetters, key: m.key?.toString() ?? '', value: codec.encode(topics.deadLetters, dl), account: String(partition) };
  }

  const loop = createTransactionalLoop({
    kafka: o.kafka, log: o.log, groupId: o.groupId, transactionalId: o.transactionalId, topic: topics.signals, handle,
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
  };
}

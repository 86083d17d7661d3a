// The brackets processor: `executions` → exit orders on `orders` and one-cancels-other requests on
// `cancel-requests`, one Kafka transaction per batch with the consumer offsets inside (the partitioned
// loop of streams/decide/loop.ts: a transactional id per executions partition, so a zombie is fenced).
// It holds no rules: it decodes, keeps the core's state current from the topics, calls `onExecution`
// (core.ts) and writes what it returns. Every record of an account shares one partition number on every
// topic, so the exits and the sibling cancel land where the entry's connector reads them.
//
// State: a tail of `orders` (entries with a bracket, exits placed by anyone), `cancel-requests` (pairs
// already resolved), `control` and `instruments` (the venues' ticks), from the beginning. A fill is only ever produced
// after its order was committed to `orders`; when a fill names an order the tail has not read yet, the
// batch waits until the tail holds everything `orders` held at that moment. A new assignment waits the
// same way for what the previous owner committed. After an aborted transaction the state is rebuilt.
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import type { DeadLetter, ExecutionReport } from '../../schemas/types.ts';
import { accountHeaders, type OutRecord } from '../runtime/consume.ts';
import { errorCode } from '../../schemas/errors.ts';
import { faultOn, killPoint } from '../runtime/faults.ts';
import type { Hlc } from '../../schemas/hlc.ts';
import { AccountPartitioner } from '../runtime/kafka.ts';
import type { Topics } from '../../schemas/topics.ts';
import type { ControlConfig } from '../decide/config.ts';
import { applyControl, defaultControlConfig } from '../decide/controlFold.ts';
import { applyInstrument } from '../decide/instrumentFold.ts';
import { startLogTail, type LogTail } from '../decide/logTail.ts';
import { createPartitionedLoop } from '../decide/loop.ts';
import { evolveCancelRequest, evolveOrder, initialBracketState, onExecution, type BracketState } from './core.ts';

export interface BracketsProcessorOptions {
  kafka: Kafka; codec: Codec; log: Logger; hlc: Hlc; topics: Topics; groupId: string;
  /** Shared by all instances; one transactional id per executions partition is derived from it (loop.ts). */
  transactionalIdBase: string;
  instanceClientId?: string;
  clock?: () => number;
}

export function createBracketsProcessor(o: BracketsProcessorOptions) {
  const clock = o.clock ?? Date.now;
  const { topics, codec, log } = o;
  let state: BracketState = initialBracketState();
  let config: ControlConfig = defaultControlConfig();
  /** Every order id the tail has read: a fill of another one waits for the tail (see the header). */
  let seen = new Set<string>();
  let tail: LogTail | null = null;
  let ready = false;
  /** Test-only (exits-after-commit): exits held back until after the commit. */
  const deferred = new Map<number, OutRecord[]>();
  let looseProducer: Producer | null = null;

  async function onRecord(topic: string, m: KafkaMessage): Promise<void> {
    if (m.value === null) return;
    try {
      if (topic === topics.orders) {
        const order = await codec.decode('Order', m.value);
        seen.add(order.orderId);
        evolveOrder(state, order);
      } else if (topic === topics.cancelRequests) evolveCancelRequest(state, await codec.decode('CancelRequest', m.value));
      else if (topic === topics.control) config = applyControl(config, await codec.decode('Control', m.value));
      // The same merged listing as decide's, so exits are priced on the tick the entry was routed with.
      else if (topic === topics.instruments) config = applyInstrument(config, await codec.decode('Instrument', m.value));
    } catch (e) {
      log.error({ err: e, topic, offset: m.offset }, 'state record skipped');
    }
  }

  async function rebuild(): Promise<void> {
    ready = false;
    await tail?.stop();
    tail = null;
    state = initialBracketState();
    config = defaultControlConfig();
    seen = new Set();
    tail = await startLogTail(o.kafka, [topics.control, topics.instruments, topics.orders, topics.cancelRequests], onRecord, log);
    await tail.caughtUp;
    ready = true;
    log.info({ entries: state.parents.size, exits: state.exits.size }, 'brackets state rebuilt');
  }

  const tick = (venue: string, symbol: string): number =>
    config.costModel.ranked.find((r) => r.name === venue)?.model.instruments.get(symbol)?.tickSize ?? 0;

  async function handle(messages: KafkaMessage[], partition: number): Promise<OutRecord[]> {
    if (!ready) throw new Error('brackets state is being rebuilt; batch aborted');
    const reports: ExecutionReport[] = [];
    const out: OutRecord[] = [];
    for (const m of messages) {
      try {
        reports.push(await codec.decode('ExecutionReport', m.value!));
      } catch (e) {
        out.push(deadLetter(m, partition, e));
      }
    }
    // A fill of an order the tail has not read: wait until it holds everything `orders` holds now.
    const fills = (r: ExecutionReport) => r.type === 'FILL' || r.type === 'PARTIAL_FILL';
    if (reports.some((r) => fills(r) && !seen.has(r.orderId) && !state.exits.has(r.orderId))) await tail!.barrier([topics.orders]);
    for (const report of reports) {
      const now = clock();
      const result = onExecution(state, { report, now, hlc: o.hlc.now(), tick });
      if (result.problem !== null) log.error({ ...result.problem }, 'bracket exits not placed: a price from the fill is not positive');
      for (const order of result.orders) {
        seen.add(order.orderId);
        out.push({ topic: topics.orders, key: order.orderId, value: codec.encode(topics.orders, order), account: order.account });
      }
      for (const c of result.cancels) out.push({ topic: topics.cancelRequests, key: c.orderId, value: codec.encode(topics.cancelRequests, c), account: c.account });
      if (result.orders.length > 0) log.info({ parentOrderId: report.orderId, executionId: report.executionId, exits: result.orders.map((x) => `${x.exitRole}:${x.orderId}`) }, 'bracket exits placed');
      if (result.cancels.length > 0) log.info({ orderId: report.orderId, cancel: result.cancels[0].orderId }, 'one-cancels-other: sibling cancel asked');
    }
    // Test-only bug (runtime/faults.ts): the exits leave the transaction and are written after its commit.
    if (faultOn('exits-after-commit')) {
      deferred.set(partition, [...(deferred.get(partition) ?? []), ...out.filter((r) => r.topic === topics.orders)]);
      return out.filter((r) => r.topic !== topics.orders);
    }
    return out;
  }

  function deadLetter(m: KafkaMessage, partition: number, e: unknown): OutRecord {
    const dl: DeadLetter = {
      sourceTopic: topics.executions, partition, offset: m.offset, processor: 'brackets', errorCode: errorCode(e),
      errorMessage: e instanceof Error ? e.message : String(e), key: m.key, value: m.value, at: clock(),
    };
    log.error({ partition, offset: m.offset, code: dl.errorCode }, 'execution sent to the dead-letter topic');
    return { topic: topics.deadLetters, key: m.key?.toString() ?? '', value: codec.encode(topics.deadLetters, dl), account: String(partition) };
  }

  const loop = createPartitionedLoop({
    kafka: o.kafka, log, groupId: o.groupId, transactionalIdBase: o.transactionalIdBase, instanceClientId: o.instanceClientId, topic: topics.executions, handle,
    async onAssigned(partitions, keepAlive) {
      if (!ready) await rebuild();
      await tail!.barrier([topics.orders, topics.cancelRequests], keepAlive);
      log.info({ partitions }, 'brackets state current for the assigned partitions');
    },
    async onAbort() {
      deferred.clear();
      await rebuild();
    },
    beforeCommit(out) {
      if (out.some((r) => r.topic === topics.orders)) killPoint('brackets-before-commit');
    },
    async afterCommit(partition) {
      const held = deferred.get(partition);
      if (held === undefined || held.length === 0) return;
      deferred.delete(partition);
      killPoint('brackets-before-commit');
      looseProducer ??= o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
      await looseProducer.connect();
      for (const r of held) await looseProducer.send({ topic: r.topic, acks: -1, messages: [{ key: r.key, value: r.value, headers: accountHeaders(r.account) }] });
    },
  });

  return {
    async start() {
      await rebuild();
      await loop.start();
    },
    async stop() {
      await loop.stop();
      await tail?.stop();
      await looseProducer?.disconnect();
    },
    state: () => state,
  };
}

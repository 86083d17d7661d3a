// Two kafkajs gaps that turn a passing Kafka fault into lost data or a silent stall, closed for every
// client made by createKafka. Both were found by stopping and restarting a broker under load
// (test/reliability/infra.test.ts).
//
// 1. A produce that fails after the broker wrote it (the connection closed while the broker was
//    stopping, a timeout) makes kafkajs roll its idempotent sequence numbers back. The next batch then
//    reuses them and the broker, taking it for a retry of the written one, acknowledges it without
//    appending it: the sender sees success and the records are gone. So an idempotent producer whose
//    produce failed is replaced by a fresh one (a new producer id) before it is used again.
//    A transactional producer whose abort failed because Kafka could not be reached is wedged (kafkajs
//    leaves it in ABORTING, refusing every later transaction): it is replaced by one with the same
//    transactional id, whose new epoch makes the coordinator abort what was open. Never after a
//    fencing error: a new epoch is how a partition's owner fences a zombie, and renewing there would
//    let the zombie fence the owner back.
//    A batch goes to one partition leader per call (txnSend.ts): when a leader dies under a batch
//    spanning several, kafkajs can write part of it twice, or report part of it written that it never
//    sent.
// 2. Some errors kafkajs deems non-retriable pass by themselves (the group coordinator not found
//    while the broker restarts); the consumer then stops for good in a live process. Such a consumer
//    is started again with the same subscription and handler, with a growing pause.
import { Partitioners, type Consumer, type ConsumerRunConfig, type Kafka, type Producer, type ProducerBatch, type ProducerConfig, type ProducerRecord } from 'kafkajs';
import type { Logger } from 'pino';
import { createPartitionView, recordingPartitioner, singleBrokerSendBatch, type PartitionView } from './txnSend.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asBatch = (r: ProducerRecord): ProducerBatch => ({ acks: r.acks, timeout: r.timeout, compression: r.compression, topicMessages: [{ topic: r.topic, messages: r.messages }] });

const FENCING = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** Whether an error (or any error it wraps) says another producer with our transactional id took over. */
export function isFencing(e: unknown): boolean {
  for (let x = e as { type?: string; cause?: unknown; originalError?: unknown } | undefined, i = 0; x && i < 8; i++) {
    if (typeof x.type === 'string' && FENCING.has(x.type)) return true;
    x = (x.cause ?? x.originalError) as typeof x;
  }
  return false;
}

export function renewingProducer(make: () => Producer, config: ProducerConfig | undefined, log: Logger, view?: PartitionView): Producer {
  if (config?.transactionalId !== undefined) return renewingTransactional(make, log, config, view);
  if (config?.idempotent !== true) return make();
  const partitioner = (config.createPartitioner ?? Partitioners.DefaultPartitioner)();
  let current = make();
  let wanted = false;
  let connected = false;
  let tainted = false;
  let renewing: Promise<void> | null = null;

  const taint = (p: Producer, e: unknown) => {
    if (p !== current || tainted) return;
    tainted = true;
    log.warn({ err: (e as Error)?.message }, 'produce failed: producer replaced before its next use (its sequence numbers are no longer known)');
  };

  async function ready(): Promise<Producer> {
    while (renewing) await renewing;
    if (tainted) {
      renewing = (async () => {
        const old = current;
        current = make();
        connected = false;
        tainted = false;
        await old.disconnect().catch(() => {});
      })();
      try { await renewing; } finally { renewing = null; }
    }
    if (wanted && !connected) {
      await current.connect();
      connected = true;
    }
    return current;
  }

  // One send at a time. kafkajs retries a failed send by itself under the sequence numbers it rolled
  // back, and a second send in flight could take them first: on a cluster, where the new leader holds
  // the batch its dead leader wrote, that second batch would be acknowledged as its duplicate and not
  // appended. Alone, a send's retry carries its own batch again, which the broker rightly drops.
  // Callers batch (the edge writes groups), so this costs little.
  let queue: Promise<unknown> = Promise.resolve();
  const guarded = <A extends unknown[], R>(fn: (p: Producer, ...a: A) => Promise<R>) => (...a: A): Promise<R> => {
    const run = queue.then(async () => {
      const p = await ready();
      try {
        return await fn(p, ...a);
      } catch (e) {
        taint(p, e);
        throw e;
      }
    });
    queue = run.catch(() => {});
    return run;
  };

  const producer: Producer = {
    async connect() {
      wanted = true;
      await ready();
    },
    async disconnect() {
      wanted = false;
      while (renewing) await renewing;
      connected = false;
      await current.disconnect();
    },
    isIdempotent: () => current.isIdempotent(),
    get events() { return current.events; },
    on: ((event: never, listener: never) => current.on(event, listener)) as Producer['on'],
    send: guarded((p, r: ProducerRecord) => (view ? singleBrokerSendBatch(p, partitioner, view)(asBatch(r)) : p.send(r))),
    sendBatch: guarded((p, b: ProducerBatch) => (view ? singleBrokerSendBatch(p, partitioner, view)(b) : p.sendBatch(b))),
    transaction: () => current.transaction(),
    logger: () => current.logger(),
  };
  return producer;
}

function renewingTransactional(make: () => Producer, log: Logger, config: ProducerConfig, view?: PartitionView): Producer {
  const partitioner = (config.createPartitioner ?? Partitioners.DefaultPartitioner)();
  let current = make();
  let renew: string | null = null;
  let wanted = false;

  async function transaction() {
    if (renew) {
      const old = current;
      current = make();
      const why = renew;
      renew = null;
      await old.disconnect().catch(() => {});
      if (wanted) await current.connect();
      log.warn(`transactional producer replaced: ${why}`);
    }
    const p = current;
    const t = await p.transaction();
    // The idempotent producer's gap, inside transactions: after a failed produce kafkajs reuses the
    // sequence numbers of a batch the broker may have written (then aborted with its transaction), and
    // the broker would take the next transaction's batch for that duplicate and not append it: a
    // committed transaction with records missing. A new producer gets a new epoch and starts its
    // sequences afresh. The coordinator's busy answer comes before anything is written, and fencing is
    // never answered by a new epoch.
    const guarded = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      try {
        return await fn(...a);
      } catch (e) {
        if (p === current && !isFencing(e) && (e as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS') renew ??= 'a produce failed, its sequence numbers are no longer known';
        throw e;
      }
    };
    const sendBatch = guarded(view ? singleBrokerSendBatch(t, partitioner, view) : t.sendBatch.bind(t));
    return {
      ...t,
      send: view ? (r: ProducerRecord) => sendBatch(asBatch(r)) : guarded(t.send.bind(t)),
      sendBatch, sendOffsets: t.sendOffsets.bind(t), commit: t.commit.bind(t), isActive: t.isActive.bind(t),
      abort: async () => {
        try {
          return await t.abort();
        } catch (e) {
          if (p === current && !isFencing(e)) renew ??= 'its abort failed while Kafka was unreachable';
          throw e;
        }
      },
    };
  }

  return {
    async connect() { wanted = true; await current.connect(); },
    async disconnect() { wanted = false; await current.disconnect(); },
    isIdempotent: () => current.isIdempotent(),
    get events() { return current.events; },
    on: ((event: never, listener: never) => current.on(event, listener)) as Producer['on'],
    send: (r) => current.send(r),
    sendBatch: (b) => current.sendBatch(b),
    transaction,
    logger: () => current.logger(),
  };
}

export function restartingConsumer(c: Consumer, log: Logger): Consumer {
  const run = c.run.bind(c);
  const disconnect = c.disconnect.bind(c);
  let config: ConsumerRunConfig | null = null;
  let stopped = false;
  let restarting = false;
  // Crashes that follow a restart closely keep the pause growing, so a lasting fault is not hammered.
  let streak = 0;
  let lastRestart = 0;
  c.run = async (cfg?: ConsumerRunConfig) => {
    config = cfg ?? {};
    stopped = false;
    return run(cfg);
  };
  c.disconnect = async () => {
    stopped = true;
    return disconnect();
  };
  c.on(c.events.CRASH, ({ payload }) => {
    if (payload.restart || stopped || config === null || restarting) return;
    restarting = true;
    log.error({ err: payload.error?.message, groupId: payload.groupId }, 'consumer stopped by an error kafkajs does not retry; starting it again');
    if (Date.now() - lastRestart > 60_000) streak = 0;
    void (async () => {
      for (; !stopped; streak++) {
        await sleep(Math.min(30_000, 500 * 2 ** streak));
        if (stopped) break;
        try {
          lastRestart = Date.now();
          await c.connect();
          await run(config!);
          log.info({ groupId: payload.groupId }, 'consumer running again');
          streak++;
          break;
        } catch (e) {
          log.warn({ err: (e as Error)?.message, groupId: payload.groupId }, 'consumer restart failed; trying again');
        }
      }
      restarting = false;
    })();
  });
  return c;
}

/** Every producer and consumer `kafka` makes from now on gets both guards. */
export function resilient(kafka: Kafka, log: Logger): Kafka {
  const producer = kafka.producer.bind(kafka);
  const consumer = kafka.consumer.bind(kafka);
  const view = createPartitionView(kafka);
  kafka.producer = (config?: ProducerConfig) => {
    const c = config?.transactionalId !== undefined || config?.idempotent === true ? { ...config, createPartitioner: recordingPartitioner(config.createPartitioner, view) } : config;
    // A transaction begun while the previous one's commit markers are still being replicated is
    // answered CONCURRENT_TRANSACTIONS and retried after the client's backoff. The Java producer waits
    // 20 ms for that answer; kafkajs would wait our general 100 ms: on a 3-node cluster that was most of
    // each transaction (send p50 140 → 54 ms, scripts/bench/txn.ts). Ten retries still span about 20 s.
    if (c?.transactionalId !== undefined && c.retry === undefined) c.retry = { initialRetryTime: 20, retries: 10 };
    return renewingProducer(() => producer(c), c, log, view);
  };
  kafka.consumer = (config) => restartingConsumer(consumer(config), log);
  return kafka;
}

// The two kafkajs gaps streams/runtime/resilient.ts closes, shown on a broker of our own (frozen with
// SIGSTOP: never the shared one) and with a stand-in consumer.
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer, type ConsumerRunConfig } from 'kafkajs';
import { startOwnBroker, type OwnBroker } from '../../scripts/chaos/broker.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { isFencing, renewingProducer, resilient, restartingConsumer } from '../../streams/runtime/resilient.ts';
import type { Producer } from 'kafkajs';

const log = createLogger('test', 'silent');

describe('idempotent producer after a produce the broker wrote but did not answer', () => {
  let broker: OwnBroker;
  before(async () => { broker = await startOwnBroker(); });
  after(async () => { await broker?.down(); });

  /** A, then B while the broker is frozen (times out, yet is written once it thaws), then C and D. */
  async function scenario(kafka: Kafka, topic: string): Promise<{ answers: string[]; onTopic: string[] }> {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 50 } });
    await p.connect();
    const answers: string[] = [];
    const send = async (tag: string) => {
      try { await p.send({ topic, acks: -1, messages: [{ key: tag, value: tag }] }); answers.push(`${tag}:ok`); } catch { answers.push(`${tag}:failed`); }
    };
    await send('A');
    process.kill(broker.pid()!, 'SIGSTOP');
    try { await send('B'); } finally { process.kill(broker.pid()!, 'SIGCONT'); }
    await new Promise((r) => setTimeout(r, 3000));
    await send('C');
    await send('D');
    await p.disconnect();
    const reader = new Kafka({ clientId: 'reader', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    const c = reader.consumer({ groupId: `g-${topic}` });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    const onTopic: string[] = [];
    await new Promise<void>((resolve) => {
      void c.run({ eachMessage: async ({ message }) => { onTopic.push(message.key!.toString()); if (onTopic.includes('D')) resolve(); } });
      setTimeout(resolve, 15_000);
    });
    await c.disconnect();
    return { answers, onTopic };
  }

  it('keeps every acknowledged record once the producer is renewed after the failure', { timeout: 180_000 }, async (t) => {
    const short = (clientId: string) => new Kafka({ clientId, brokers: [broker.brokers], requestTimeout: 1500, logLevel: logLevel.NOTHING });
    const ours = await scenario(resilient(short('ours'), log), `ours-${Date.now()}`);
    // The same steps with plain kafkajs, for the report: there C is acknowledged and missing.
    const plain = await scenario(short('plain'), `plain-${Date.now()}`);
    t.diagnostic(JSON.stringify({ ours, plain }));
    assert.ok(ours.answers.includes('B:failed'), `B failed while the broker was frozen: ${JSON.stringify(ours)}`);
    for (const a of ours.answers.filter((x) => x.endsWith(':ok'))) assert.ok(ours.onTopic.includes(a.split(':')[0]), `${a} is on the topic: ${JSON.stringify(ours)}`);
  });

  it('is what createKafka hands out', () => {
    const kafka = createKafka(loadRuntimeEnv({ KAFKA_BROKERS: broker.brokers }), 'test', log);
    assert.ok(Object.hasOwn(kafka, 'producer') && Object.hasOwn(kafka, 'consumer'), 'producer and consumer factories are wrapped');
  });
});

describe('consumer stopped by an error kafkajs does not retry', () => {
  function fakeConsumer() {
    const events = new EventEmitter();
    const calls: string[] = [];
    const c = {
      events: { CRASH: 'consumer.crash' },
      on: (e: string, l: (x: unknown) => void) => { events.on(e, l); return () => events.off(e, l); },
      connect: async () => { calls.push('connect'); },
      run: async (cfg?: ConsumerRunConfig) => { calls.push(`run:${cfg?.autoCommit}`); },
      disconnect: async () => { calls.push('disconnect'); },
    };
    return { consumer: c as unknown as Consumer, crash: (restart: boolean) => events.emit('consumer.crash', { payload: { error: new Error('Failed to find group coordinator'), groupId: 'g', restart } }), calls };
  }

  it('is started again with the same handler', async () => {
    const f = fakeConsumer();
    const c = restartingConsumer(f.consumer, log);
    await c.run({ autoCommit: false, eachBatch: async () => {} });
    f.crash(false);
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(f.calls, ['run:false', 'connect', 'run:false']);
  });

  it('is left to kafkajs when kafkajs restarts it, and left stopped once disconnected', async () => {
    const f = fakeConsumer();
    const c = restartingConsumer(f.consumer, log);
    await c.run({ autoCommit: true });
    f.crash(true);
    await c.disconnect();
    f.crash(false);
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(f.calls, ['run:true', 'disconnect']);
  });
});

describe('transactional producer whose abort failed', () => {
  function fakes(abortError: Error) {
    const made: string[] = [];
    let n = 0;
    const make = () => {
      const id = `p${n++}`;
      made.push(id);
      return {
        connect: async () => { made.push(`${id}.connect`); },
        disconnect: async () => { made.push(`${id}.disconnect`); },
        transaction: async () => ({
          send: async () => ({}), sendBatch: async () => ({}), sendOffsets: async () => {}, commit: async () => {}, isActive: () => true,
          abort: async () => { throw abortError; },
        }),
      } as unknown as Producer;
    };
    return { made, producer: renewingProducer(make, { transactionalId: 'tx-1', idempotent: true }, log) };
  }

  it('is replaced (same transactional id, new epoch) when Kafka could not be reached', async () => {
    const f = fakes(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' }));
    await f.producer.connect();
    const t = await f.producer.transaction();
    await assert.rejects(t.abort());
    await f.producer.transaction();
    assert.deepEqual(f.made, ['p0', 'p0.connect', 'p1', 'p0.disconnect', 'p1.connect']);
  });

  it('is kept when it was fenced: a zombie must not fence the owner back', async () => {
    const fenced = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: Object.assign(new Error('old epoch'), { type: 'INVALID_PRODUCER_EPOCH' }) });
    assert.ok(isFencing(fenced));
    const f = fakes(fenced);
    await f.producer.connect();
    await assert.rejects((await f.producer.transaction()).abort());
    await f.producer.transaction();
    assert.deepEqual(f.made, ['p0', 'p0.connect']);
  });
});

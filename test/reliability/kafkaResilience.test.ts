// The kafkajs gaps streams/runtime/resilient.ts closes, with stand-ins (the real-broker cases are in
// infra.test.ts).
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Consumer, ConsumerRunConfig, Producer } from 'kafkajs';
import { createLogger } from '../../streams/runtime/log.ts';
import { isFencing, renewingProducer, restartingConsumer } from '../../streams/runtime/resilient.ts';

const log = createLogger('test', 'silent');

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

  it('is replaced before its next transaction when a produce in it failed (its sequence numbers are no longer known)', async () => {
    const made: string[] = [];
    let n = 0;
    const make = () => {
      const id = `p${n++}`;
      made.push(id);
      return {
        connect: async () => { made.push(`${id}.connect`); },
        disconnect: async () => { made.push(`${id}.disconnect`); },
        transaction: async () => ({
          send: async () => { throw new Error('Request Produce timed out'); }, sendBatch: async () => { throw Object.assign(new Error('busy'), { type: 'CONCURRENT_TRANSACTIONS' }); },
          sendOffsets: async () => {}, commit: async () => {}, isActive: () => true, abort: async () => {},
        }),
      } as unknown as Producer;
    };
    const p = renewingProducer(make, { transactionalId: 'tx-1', idempotent: true }, log);
    await p.connect();
    const busy = await p.transaction();
    await assert.rejects(busy.sendBatch({ topicMessages: [] }));
    await busy.abort();
    const t = await p.transaction();
    assert.deepEqual(made, ['p0', 'p0.connect'], 'the coordinator being busy writes nothing: kept');
    await assert.rejects(t.send({ topic: 't', messages: [{ value: 'x' }] }));
    await t.abort();
    await p.transaction();
    assert.deepEqual(made, ['p0', 'p0.connect', 'p1', 'p0.disconnect', 'p1.connect']);
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

describe('idempotent producer whose produce failed', () => {
  it('is replaced before its next send, so its rolled-back sequence numbers are never reused', async () => {
    const made: string[] = [];
    let n = 0;
    let fail = true;
    const make = () => {
      const id = `p${n++}`;
      made.push(id);
      return {
        connect: async () => { made.push(`${id}.connect`); },
        disconnect: async () => { made.push(`${id}.disconnect`); },
        send: async () => { made.push(`${id}.send`); if (fail) { fail = false; throw new Error('Request Produce timed out'); } return []; },
      } as unknown as Producer;
    };
    const p = renewingProducer(make, { idempotent: true }, log);
    await p.connect();
    await assert.rejects(p.send({ topic: 't', messages: [{ value: 'B' }] }));
    await p.send({ topic: 't', messages: [{ value: 'C' }] });
    await p.send({ topic: 't', messages: [{ value: 'D' }] });
    assert.deepEqual(made, ['p0', 'p0.connect', 'p0.send', 'p1', 'p0.disconnect', 'p1.connect', 'p1.send', 'p1.send']);
  });

  it('sends one batch at a time, so a retry inside kafkajs never meets another batch under the same sequence numbers', async () => {
    // C is slow, B is sent meanwhile and fails: B must not have gone out while C was in flight.
    const made: string[] = [];
    let n = 0;
    let releaseC!: () => void;
    const cAnswered = new Promise<void>((r) => { releaseC = r; });
    const make = () => {
      const id = `p${n++}`;
      made.push(id);
      return {
        connect: async () => {},
        disconnect: async () => {},
        send: async (r: { messages: { value: string }[] }) => {
          const v = r.messages[0].value;
          made.push(`${id}.send.${v}`);
          if (v === 'C') await cAnswered;
          if (v === 'B') throw new Error('Connection error: connect ECONNREFUSED');
          made.push(`${id}.acked.${v}`);
          return [];
        },
      } as unknown as Producer;
    };
    const p = renewingProducer(make, { idempotent: true }, log);
    await p.connect();
    const c = p.send({ topic: 't', messages: [{ value: 'C' }] });
    const b = p.send({ topic: 't', messages: [{ value: 'B' }] });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(made, ['p0', 'p0.send.C'], 'B waits for C');
    releaseC();
    await c;
    await assert.rejects(b);
    await p.send({ topic: 't', messages: [{ value: 'D' }] });
    assert.deepEqual(made, ['p0', 'p0.send.C', 'p0.acked.C', 'p0.send.B', 'p1', 'p1.send.D', 'p1.acked.D']);
  });

  it('leaves producers without idempotence alone', () => {
    let made = 0;
    renewingProducer(() => { made++; return {} as Producer; }, {}, log);
    assert.equal(made, 1);
  });
});

// Infrastructure faults mid-run, on a Kafka broker of our own (the shared one is never stopped).
// Kafka: stopped and started again under load; the edge answers 503, never 202, while Kafka cannot
// acknowledge, and recovers by itself; nothing lost or doubled. A frozen broker (SIGSTOP) shows the
// kafkajs sequence-number gap streams/runtime/resilient.ts closes. Postgres: this run's own
// connections terminated (pg_terminate_backend by application_name), which leaves everyone else's
// alone; restarting the server itself is `npm run chaos -- --postgres-restart`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { fixKafkajsRequestQueue } from '../../schemas/kafkaRequestQueue.ts';
import { startOwnBroker, type OwnBroker } from '../../scripts/chaos/broker.ts';
import { runKafkaOutage, runPostgresFault } from '../../scripts/chaos/scenarios/infra.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { resilient } from '../../streams/runtime/resilient.ts';

fixKafkajsRequestQueue(); // the plain clients below too, as every component's (streams/runtime/kafka.ts)

const log = createLogger('test', 'silent');

describe('Kafka faults (a broker of our own)', () => {
  let broker: OwnBroker;
  before(async () => { broker = await startOwnBroker(); });
  after(async () => { await broker?.down(); });

  /** A, then B while the broker is frozen (times out, yet is written once it thaws), then C and D. */
  async function frozenSend(kafka: Kafka, topic: string): Promise<{ answers: string[]; onTopic: string[] }> {
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
    const c = new Kafka({ clientId: 'reader', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).consumer({ groupId: `g-${topic}` });
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

  it('keeps every acknowledged record after a produce the broker wrote but did not answer', { timeout: 120_000 }, async (t) => {
    const short = (clientId: string) => new Kafka({ clientId, brokers: [broker.brokers], requestTimeout: 1500, logLevel: logLevel.NOTHING });
    const ours = await frozenSend(resilient(short('ours'), log), `ours-${Date.now()}`);
    // The same steps with plain kafkajs, for the report: there C is acknowledged and missing.
    const plain = await frozenSend(short('plain'), `plain-${Date.now()}`);
    t.diagnostic(JSON.stringify({ ours, plain }));
    assert.ok(ours.answers.includes('B:failed'), `B failed while the broker was frozen: ${JSON.stringify(ours)}`);
    for (const a of ours.answers.filter((x) => x.endsWith(':ok'))) assert.ok(ours.onTopic.includes(a.split(':')[0]), `${a} is on the topic: ${JSON.stringify(ours)}`);
    const kafka = createKafka(loadRuntimeEnv({ KAFKA_BROKERS: broker.brokers }), 'test', log);
    assert.ok(Object.hasOwn(kafka, 'producer') && Object.hasOwn(kafka, 'consumer'), 'createKafka hands out the guarded factories');
  });

  it('broker stopped and restarted mid-run: 503 while down, recovery without restarts, nothing lost or doubled', { timeout: 420_000 }, async (t) => {
    const r = await runKafkaOutage({ ratePerSec: 30, alerts: 750, stopAfterMs: 6_000, downForMs: 10_000, broker });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ readyz: r.readyz, send: r.send, duringOutage: r.duringOutage, acceptedWhileDown: r.acceptedWhileDown, recoveredAfterMs: r.edgeRecoveredAfterMs, figures, examples, crashes: r.crashes }));
    if (r.tails) t.diagnostic(JSON.stringify(r.tails));
    assert.ok((r.duringOutage[503] ?? 0) > 0, 'the edge answered 503 while Kafka was down');
    assert.equal(r.acceptedWhileDown, 0, 'no 202 while Kafka could not acknowledge');
    assert.notEqual(r.edgeRecoveredAfterMs, null, 'the edge accepted again without a restart');
    assert.ok((r.readyz.duringOutage[503] ?? 0) > 0, `/readyz said 503 while Kafka was down: ${JSON.stringify(r.readyz)}`);
    assert.ok((r.readyz.afterRecovery[200] ?? 0) > 0 && Object.keys(r.readyz.afterRecovery).every((k) => k === '200'), `/readyz back to 200 once the edge accepted again: ${JSON.stringify(r.readyz)}`);
    assert.deepEqual(r.crashes, [], 'no process died');
    assert.equal(r.send.accepted, r.send.sent, 'every alert accepted in the end (the sender retried 503s)');
    assert.equal(r.verdict.duplicates.total, 0);
    assert.equal(r.verdict.lost.total, 0);
    assert.deepEqual(r.verdict.failures, [], 'every figure clean, Parquet read');
  });
});

describe('Postgres faults', () => {
  it('connections cut mid-run: nothing lost or doubled', { timeout: 300_000 }, async (t) => {
    const r = await runPostgresFault({ ratePerSec: 30, alerts: 450, mode: 'terminate', times: 3 });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ terminated: r.terminated, send: r.send, figures, examples, crashes: r.crashes }));
    assert.equal(r.faults, 3);
    assert.ok(r.terminated > 0, 'connections were terminated');
    assert.equal(r.send.accepted, r.send.sent);
    assert.equal(r.verdict.duplicates.total, 0);
    assert.equal(r.verdict.lost.total, 0);
    assert.deepEqual(r.verdict.failures, [], 'every figure clean, Parquet read');
    assert.deepEqual(r.crashes, []);
  });
});

// kafkajs's request queue, as this project runs it (schemas/kafkaRequestQueue.ts): no timer armed while
// nothing waits, and a waiting request still goes out when an in-flight slot frees or a throttle ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixKafkajsRequestQueue, kafkajsRequestQueue, timeoutCheckEvery } from '../../schemas/kafkaRequestQueue.ts';

type Queue = {
  push(r: { entry: object; expectResponse: boolean; sendRequest(): void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
};

const RequestQueue = kafkajsRequestQueue() as unknown as { new (o: object): Queue; prototype: Queue };
const original = RequestQueue.prototype.scheduleCheckPendingRequests;
fixKafkajsRequestQueue();
fixKafkajsRequestQueue(); // idempotent

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
/** A queue destroyed when the test ends, passed or failed (an armed loop would keep the process alive). */
function queue(t: { after(fn: () => void): void }, maxInFlightRequests: number, requestTimeout?: number): Queue {
  const q = new RequestQueue({
    maxInFlightRequests, requestTimeout: requestTimeout ?? 30_000, enforceRequestTimeout: requestTimeout !== undefined, clientId: 't', broker: 'b:1', logger: quiet,
  });
  t.after(() => q.destroy());
  return q;
}

/** Pushes request `id`; `sent` records the ids in the order the queue sends them. */
function push(q: Queue, id: number, sent: number[], reject: (e: Error) => void = () => {}): void {
  const entry = { correlationId: id, apiKey: 0, apiName: 'Produce', apiVersion: 7, resolve() {}, reject };
  q.push({ entry, expectResponse: true, sendRequest: () => sent.push(id) });
}
const answer = (q: Queue, id: number) => q.fulfillRequest({ correlationId: id, payload: Buffer.alloc(0), size: 0 });

describe('kafkajs request queue', () => {
  it('unfixed, re-arms a timer after an answer with nothing waiting (the loop this replaces)', async (t) => {
    // Node's TimeoutNegativeWarning for kafkajs's delay is expected here: kept out of the run's output.
    const printers = process.listeners('warning');
    process.removeAllListeners('warning');
    t.after(async () => { await sleep(5); for (const p of printers) process.on('warning', p); });
    const q = queue(t, 1);
    q.scheduleCheckPendingRequests = original; // this instance only: kafkajs's own method
    push(q, 1, []);
    answer(q, 1);
    assert.notEqual(q.throttleCheckTimeoutId, null);
  });

  it('arms no timer once every request is answered', async (t) => {
    const q = queue(t, 1);
    const sent: number[] = [];
    push(q, 1, sent);
    answer(q, 1);
    assert.deepEqual(sent, [1]);
    assert.equal(q.throttleCheckTimeoutId, null);
    await sleep(20);
    assert.equal(q.throttleCheckTimeoutId, null);
  });

  it('sends a request that waited for an in-flight slot when the answer frees one, in order', (t) => {
    const q = queue(t, 1);
    const sent: number[] = [];
    push(q, 1, sent);
    push(q, 2, sent);
    push(q, 3, sent);
    assert.deepEqual(sent, [1]);
    answer(q, 1);
    assert.deepEqual(sent, [1, 2]);
    answer(q, 2);
    answer(q, 3);
    assert.deepEqual(sent, [1, 2, 3]);
    assert.equal(q.pending.length, 0);
  });

  it('sends a request that waited for a broker throttle once it ends, then stops checking', async (t) => {
    const q = queue(t, 5);
    const sent: number[] = [];
    q.maybeThrottle(40);
    const at = Date.now();
    push(q, 1, sent);
    assert.deepEqual(sent, []);
    assert.notEqual(q.throttleCheckTimeoutId, null);
    while (sent.length === 0 && Date.now() - at < 2_000) await sleep(5);
    assert.deepEqual(sent, [1]);
    assert.ok(Date.now() - at >= 35, `sent after the throttle: ${Date.now() - at} ms`);
    answer(q, 1);
    await sleep(20);
    assert.equal(q.throttleCheckTimeoutId, null);
  });

  it('times out an unanswered request at most a tenth of its timeout late', async (t) => {
    assert.deepEqual([50, 300, 1_500, 30_000, 120_000].map(timeoutCheckEvery), [100, 100, 150, 1_000, 1_000]);
    const q = queue(t, 1, 400);
    q.scheduleRequestTimeoutCheck(); // what kafkajs's connection does once connected
    const at = Date.now();
    const timedOut = new Promise<number>((resolve) => push(q, 1, [], (e) => { assert.equal(e.name, 'KafkaJSRequestTimeoutError'); resolve(Date.now() - at); }));
    const after = await timedOut;
    assert.ok(after >= 400 && after < 1_000, `timed out after ${after} ms (a check every 100 ms; the rest is a busy machine)`);
  });
});

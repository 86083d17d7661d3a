// The process that places bracket exits (decide's kind: decide + brackets) SIGKILLed at the worst
// instant: it has read the entry's fill and sent the exits, and has not committed. Restarted, it reads
// the fill again and places the exits exactly once: two exits on `orders`, two orders at the venue.
//
// The kill is deterministic: ORDER_ROUTER_KILL_AT=brackets-before-commit (streams/runtime/faults.ts)
// makes the child SIGKILL itself there, once. Seen red: BRACKETS_KILL_FAULT=exits-after-commit runs the
// child with the deliberate bug of committing the fill's offset before writing its exits; the same
// kill then loses them and this test fails on "the two exits on orders after the restart".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { Order } from '../../schemas/types.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { isolatedEnv, readAll, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';
import { kill, spawnComponent, type Child } from '../helpers/processes.ts';

describe('bracket exits across a SIGKILL between the fill and the commit', () => {
  const env = isolatedEnv();
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let child: Child | null = null;

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog(), components: ['edge', 'connector', 'projection'] });
  });
  after(async () => {
    if (child) await kill(child);
    await pipeline?.stop();
    await venue?.stop();
  });

  it('neither loses nor doubles an exit', { timeout: 240_000 }, async () => {
    const once = join(mkdtempSync(join(tmpdir(), 'brackets-kill-')), 'killed');
    const childEnv = { ...env, ORDER_ROUTER_KILL_AT: 'brackets-before-commit', ORDER_ROUTER_KILL_ONCE: once, ORDER_ROUTER_FAULT: process.env.BRACKETS_KILL_FAULT ?? '' };
    child = spawnComponent('decide', childEnv);
    const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    const orders = async (): Promise<Order[]> => Promise.all((await readAll(env, pipeline.topics.orders)).map((m) => codec.decode('Order', m.value!)));
    const { ask } = ((await (await fetch(`${env.PAPER_VENUE_URL}/v1/quotes?symbols=AAPL`)).json()) as { ask: number }[])[0];
    const alert = tradingViewAlert({
      order_id: randomUUID(), take_profit: { price: (Math.round(ask * 101) / 100).toFixed(2) }, stop_loss: { type: 'stop', price: (Math.round(ask * 99) / 100).toFixed(2) },
    });
    // The edge accepts as soon as it runs; decide (in the child) may still be joining its group.
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
    assert.equal(res.status, 202);

    const exited = await Promise.race([child.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 120_000))]);
    assert.ok(exited, `the child reached the kill point\n${child.output().slice(-3000)}`);
    assert.equal(child.proc.signalCode, 'SIGKILL');
    assert.ok(existsSync(once));
    const entry = (await orders()).find((o) => o.takeProfit !== null);
    assert.ok(entry !== undefined, 'the entry was decided before the kill');
    assert.deepEqual((await orders()).filter((o) => o.parentOrderId !== null), [], 'nothing of the killed transaction is visible');

    child = spawnComponent('decide', childEnv);
    const exits = await waitFor('the two exits on orders after the restart', async () => {
      const mine = (await orders()).filter((o) => o.parentOrderId === entry.orderId);
      return mine.length >= 2 ? mine : null;
    }, 90_000);
    const stats = async () => ((await (await fetch(`${env.PAPER_VENUE_URL}/v1/stats`)).json()) as { ordersCreated: number }).ordersCreated;
    await waitFor('the entry and both exits at the venue', async () => ((await stats()) >= 3 ? true : null), 30_000);
    // Give a double the time it would need to show.
    await new Promise((r) => setTimeout(r, 3_000));
    const final = (await orders()).filter((o) => o.parentOrderId === entry.orderId);
    assert.deepEqual(final.map((o) => o.exitRole).sort(), ['STOP_LOSS', 'TAKE_PROFIT'], 'one of each exit on orders');
    assert.deepEqual(final.map((o) => o.orderId).sort(), exits.map((o) => o.orderId).sort());
    assert.equal(await stats(), 3, 'one entry and two exits at the venue');
  });
});

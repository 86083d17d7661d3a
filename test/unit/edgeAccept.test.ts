// The edge's accept path against a Postgres stand-in that keeps `edge_signals` in a map: a signal is
// produced once, its row is marked produced after the 202 in one UPDATE for many, and a produce that
// failed leaves the row unmarked so that the sender's retry produces it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import type { Signal } from '../../schemas/types.ts';
import { createAccept } from '../../edge/accept.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const signal = (id: string) => ({ signalId: id, account: 'A', strategy: 's' }) as unknown as Signal;
const codec = { encode: () => Buffer.from('x') } as unknown as Codec;

function fakes(failSends = 0) {
  const rows = new Map<string, boolean>(); // signal id → produced
  const statements: string[] = [];
  let sent: string[] = [];
  let failing = failSends;
  const pool = {
    query: async (sql: string, params: string[][]) => {
      statements.push(sql.trim().split(/\s+/)[0]);
      if (sql.includes('INSERT')) {
        for (const id of params[0]) if (!rows.has(id)) rows.set(id, false);
        return { rows: params[0].map((id) => ({ signal_id: id, produced: rows.get(id) })) };
      }
      for (const id of params[0]) rows.set(id, true);
      return { rows: [] };
    },
  } as unknown as pg.Pool;
  const producer = {
    send: async (r: { messages: { key: string }[] }) => {
      if (failing > 0) { failing -= 1; throw new Error('broker down'); }
      sent = [...sent, ...r.messages.map((m) => m.key)];
      return [];
    },
  } as unknown as Producer;
  return { rows, statements, pool, producer, sent: () => sent };
}

describe('edge accept', () => {
  it('produces a signal once; a repeat before and after its row is marked is a duplicate; one UPDATE marks many', async () => {
    const f = fakes();
    const accept = createAccept({ producer: f.producer, pool: f.pool, codec, topic: 'signals' });
    assert.deepEqual(await accept(signal('a')), { duplicate: false });
    assert.equal(f.rows.get('a'), false, 'marked after the answer, not before');
    assert.deepEqual(await accept(signal('a')), { duplicate: true }, 'a repeat before the mark');
    assert.deepEqual(await Promise.all([accept(signal('b')), accept(signal('c'))]), [{ duplicate: false }, { duplicate: false }]);
    await sleep(150);
    assert.deepEqual([...f.rows], [['a', true], ['b', true], ['c', true]]);
    assert.equal(f.statements.filter((s) => s === 'UPDATE').length, 1, `one UPDATE for the three: ${f.statements.join(' ')}`);
    assert.deepEqual(await accept(signal('b')), { duplicate: true }, 'a repeat after the mark');
    assert.deepEqual(f.sent(), ['a', 'b', 'c']);
  });

  it('leaves the row of a signal Kafka refused unmarked, so that the retry produces it', async () => {
    const f = fakes(1);
    const accept = createAccept({ producer: f.producer, pool: f.pool, codec, topic: 'signals' });
    await assert.rejects(accept(signal('x')), /Kafka did not acknowledge/);
    await sleep(100);
    assert.equal(f.rows.get('x'), false);
    assert.deepEqual(await accept(signal('x')), { duplicate: false });
    assert.deepEqual(f.sent(), ['x']);
  });
});

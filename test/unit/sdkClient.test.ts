// The SDK's stream client against a small WebSocket server that speaks the protocol: the hello it
// sends, its cursor, the resumeFrom it reconnects with after a drop, no reconnection after 4001, and a
// handler that throws reported without the record coming round again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { connect } from '../../edge/sdk/index.ts';
import { checkHello, type AuthContext, type Hello, type StreamMessage } from '../../edge/stream/protocol.ts';

const SECRET = 'sdk-secret-0123456789abcdef';
const ctx: AuthContext = { strategies: new Map([['alpha', { id: 'alpha', account: 'ACC-A', secrets: [SECRET] }]]), decoy: ['x'.repeat(20)], maxClockSkewSec: 300 };

function server(onHello: (ws: WebSocket, hello: Hello, n: number) => void) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let n = 0;
  wss.on('connection', (ws) => ws.once('message', (data) => {
    const r = checkHello(String(data), Date.now(), ctx);
    if (!r.ok) return ws.close(4001, 'UNAUTHORIZED');
    onHello(ws, r.hello, ++n);
  }));
  const url = new Promise<string>((res) => wss.on('listening', () => res(`http://127.0.0.1:${(wss.address() as { port: number }).port}`)));
  return { wss, url };
}

const quote = (partition: number, offset: number): StreamMessage => ({
  type: 'quote', topic: 'quotes', partition, offset: String(offset),
  quote: { venue: 'paper', symbol: 'AAPL', bid: offset, ask: offset + 1, bidSize: 1, askSize: 1, venueTime: null, hlc: 0 },
});

const servers: WebSocketServer[] = [];
after(() => { for (const s of servers) s.close(); });

describe('SDK stream client', () => {
  it('given a drop after two records, then it reconnects with resumeFrom at what it saw, and the handlers see each record once', async () => {
    const hellos: Hello[] = [];
    const { wss, url } = server((ws, hello, n) => {
      hellos.push(hello);
      ws.send(JSON.stringify({ type: 'ready', strategy: 'alpha', account: 'ACC-A', from: { quotes: { 0: n === 1 ? '9' : hello.resumeFrom!.quotes['0'], 1: n === 1 ? '-1' : hello.resumeFrom!.quotes['1'] } } }));
      if (n === 1) {
        ws.send(JSON.stringify(quote(0, 10)));
        ws.send(JSON.stringify(quote(1, 0)));
        setTimeout(() => ws.terminate(), 50);
      } else {
        ws.send(JSON.stringify(quote(0, 11)));
      }
    });
    servers.push(wss);
    const seen: string[] = [];
    const client = connect({ url: await url, strategy: 'alpha', secret: SECRET, symbols: ['aapl'], backoffMs: { min: 10, max: 10 } });
    client.on('quote', (_q, at) => { seen.push(`${at.partition}:${at.offset}`); });
    const drops: number[] = [];
    client.on('disconnected', (d) => drops.push(d.code));
    await waitUntil(() => seen.length === 3);
    client.close();
    assert.deepEqual(seen, ['0:10', '1:0', '0:11']);
    assert.deepEqual(hellos.map((h) => h.resumeFrom), [undefined, { quotes: { 0: '10', 1: '0' } }]);
    assert.deepEqual(hellos[0].symbols, ['AAPL']);
    assert.equal(drops[0], 1006);
    assert.deepEqual(client.cursor(), { quotes: { 0: '11', 1: '0' } });
  });

  it('given a wrong secret, then it is told 4001 once and does not come back', async () => {
    let connections = 0;
    const { wss, url } = server(() => {});
    wss.on('connection', () => { connections++; });
    servers.push(wss);
    const client = connect({ url: await url, strategy: 'alpha', secret: 'wrong-secret-0123456789', backoffMs: { min: 10, max: 10 } });
    const d = await new Promise<{ code: number; reconnecting: boolean }>((r) => client.once('disconnected', r));
    assert.deepEqual([d.code, d.reconnecting], [4001, false]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(connections, 1);
  });

  it('given a handler that throws, then the error is reported, the cursor moves on, and later records still arrive', async () => {
    const { wss, url } = server((ws) => {
      ws.send(JSON.stringify({ type: 'ready', strategy: 'alpha', account: 'ACC-A', from: { quotes: { 0: '-1' } } }));
      ws.send(JSON.stringify(quote(0, 0)));
      ws.send(JSON.stringify(quote(0, 1)));
    });
    servers.push(wss);
    const client = connect({ url: await url, strategy: 'alpha', secret: SECRET });
    const errors: string[] = [];
    const seen: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    client.on('quote', (_q, at) => {
      seen.push(at.offset);
      if (at.offset === '0') throw new Error('strategy bug');
    });
    await waitUntil(() => seen.length === 2);
    client.close();
    assert.deepEqual(errors, ['strategy bug']);
    assert.deepEqual(client.cursor(), { quotes: { 0: '1' } });
  });
});

async function waitUntil(ok: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

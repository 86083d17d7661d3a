// The runtime's signer (the SDK's submit inside) against the edge's own verification and parser: a signature the edge accepts,
// retries of a 503 with the same idempotency key, no retry of a 400, and no secret in any log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { SIGNATURE_HEADER, verifySignature } from '../../edge/auth.ts';
import { signedSignal } from '../../edge/signal.ts';
import type { SignalBody } from '../../edge/strategies/host.ts';
import { createSigner, signedRequest } from '../../edge/strategies/signer.ts';

const SECRET = 'strategy-secret-0123456789abcdef';
const body: SignalBody = { strategy: 'trend-1', symbol: 'AAPL', intent: 'target', target: 10, time: 1_764_000_000_000, idempotencyKey: '1764000000000.1' };

test('the signed request passes the edge\'s verification and parser', () => {
  const now = Date.now();
  const req = signedRequest('http://127.0.0.1:8080/', SECRET, body, now);
  assert.equal(req.url, 'http://127.0.0.1:8080/signals');
  const check = verifySignature({ header: req.headers[SIGNATURE_HEADER], rawBody: req.body, secrets: [SECRET], nowMs: now, maxSkewSec: 300 });
  assert.deepEqual(check, { ok: true, secretIndex: 0 });
  assert.equal(verifySignature({ header: req.headers[SIGNATURE_HEADER], rawBody: req.body, secrets: ['another-secret-0123456789'], nowMs: now, maxSkewSec: 300 }).ok, false);
  const signal = signedSignal(JSON.parse(req.body), { strategy: { id: 'trend-1', account: 'ACC-1' }, receivedAt: now, hlc: 1 });
  assert.equal(signal.signalId, 'trend-1:1764000000000.1');
  assert.equal(signal.targetPosition, 10);
});

test('a 503 is retried with the same body; a 400 is not; secrets stay out of the logs', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(s); } });
  const seen: string[] = [];
  const answers = [503, 503, 202, 400];
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    seen.push(String(init.body));
    const status = answers.shift()!;
    return new Response(JSON.stringify(status === 400 ? { error: { code: 'INVALID_FIELD', field: 'target', message: 'target: required' } } : status === 503 ? { error: { code: 'UNAVAILABLE' } } : { signalId: 'x', duplicate: false }), { status });
  }) as unknown as typeof fetch;
  const signer = createSigner({ edgeUrl: 'http://edge', secretOf: () => SECRET, log, fetch: fakeFetch });
  signer.submit('trend-1', body);
  await signer.drain();
  assert.equal(seen.length, 3);
  assert.ok(seen.every((b) => b === seen[0]), 'every retry sends the same bytes (same idempotency key)');
  signer.submit('trend-1', { ...body, idempotencyKey: 'second' });
  await signer.drain();
  assert.equal(seen.length, 4, 'a 400 is not retried');
  assert.deepEqual(signer.stats(), { accepted: 1, duplicates: 0, refused: 1, failed: 0, dropped: 0 });
  assert.ok(lines.some((l) => l.includes('signal refused by the edge') && l.includes('"field":"target"')));
  assert.ok(lines.every((l) => !l.includes(SECRET) && !l.includes('v1=')));
});

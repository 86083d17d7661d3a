// A strategy's signal leaves the runtime the way any signed client's does: the SDK's `submit`
// (edge/sdk), a POST /signals whose raw body is signed with the strategy's secret, so it meets the same
// authentication, risk gate and audit trail. Retries are safe: the body carries the idempotency key,
// so the edge answers a repeat with `duplicate: true` instead of a second signal. This module adds what
// a runtime of many strategies needs around it: a bound on signals waiting for the edge, counts, and
// log lines that name the refused field. Neither the secret nor the signature is logged.
import type { Logger } from 'pino';
import { SIGNATURE_HEADER, signatureHeader } from '../auth.ts';
import { SdkError, submit, type SignalInput } from '../sdk/index.ts';
import type { SignalBody } from './host.ts';

export interface SignedRequest { url: string; headers: Record<string, string>; body: string }

/** Pure: the request for one signal, signed at `nowMs` (what the SDK sends; kept for tests and tools). */
export function signedRequest(edgeUrl: string, secret: string, body: SignalBody, nowMs: number): SignedRequest {
  const text = JSON.stringify(body);
  return {
    url: `${edgeUrl.replace(/\/+$/, '')}/signals`,
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(secret, Math.floor(nowMs / 1000), text) },
    body: text,
  };
}

export interface SignerOptions {
  edgeUrl: string;
  /** strategy id → the secret it signs with (the first active one). */
  secretOf(strategy: string): string | undefined;
  log: Logger;
  attempts?: number;
  /** At most this many signals waiting for the edge; more are dropped with an error (memory stays bounded). */
  maxPending?: number;
  fetch?: typeof fetch;
  clock?: () => number;
}

export interface Signer {
  submit(strategy: string, body: SignalBody): void;
  /** Resolves when every submitted signal has an answer (or gave up). */
  drain(): Promise<void>;
  stats(): { accepted: number; duplicates: number; refused: number; failed: number; dropped: number };
}

export function createSigner(o: SignerOptions): Signer {
  const clock = o.clock ?? Date.now;
  const attempts = o.attempts ?? 5;
  const pending = new Set<Promise<void>>();
  const stats = { accepted: 0, duplicates: 0, refused: 0, failed: 0, dropped: 0 };

  async function send(strategy: string, body: SignalBody): Promise<void> {
    const secret = o.secretOf(strategy);
    if (secret === undefined) { stats.failed += 1; o.log.error({ strategy }, 'no secret configured for the strategy; signal dropped'); return; }
    try {
      // The SDK's input type names the basic fields; the edge's parser takes every field a StrategySignal has.
      const r = await submit({ url: o.edgeUrl, strategy, secret }, body as unknown as SignalInput, { attempts, fetch: o.fetch, clock });
      if (r.duplicate) stats.duplicates += 1; else stats.accepted += 1;
    } catch (e) {
      const status = e instanceof SdkError ? e.status : null;
      const error = e instanceof SdkError ? { code: e.code, field: e.field, message: e.message } : (e as Error).message;
      // Only a 503 or a network error is retried by the SDK: anything else is the edge's final answer.
      if (status !== null && status !== 503) {
        stats.refused += 1;
        o.log.warn({ strategy, status, error, idempotencyKey: body.idempotencyKey }, 'signal refused by the edge');
      } else {
        stats.failed += 1;
        o.log.error({ strategy, status, error, idempotencyKey: body.idempotencyKey, attempts }, 'signal not delivered; giving up');
      }
    }
  }

  return {
    submit(strategy, body) {
      if (pending.size >= (o.maxPending ?? 1_000)) {
        stats.dropped += 1;
        o.log.error({ strategy, idempotencyKey: body.idempotencyKey }, 'too many signals waiting for the edge; signal dropped');
        return;
      }
      const p: Promise<void> = send(strategy, body).finally(() => pending.delete(p));
      pending.add(p);
    },
    async drain() { while (pending.size > 0) await Promise.all([...pending]); },
    stats: () => ({ ...stats }),
  };
}

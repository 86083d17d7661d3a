// A strategy's signal leaves the runtime the way any signed client's does: POST /signals, the raw body
// signed with the strategy's secret in edge/auth.ts's format (`t=<unix>,v1=<hmac>`), so it meets the
// same authentication, risk gate and audit trail. A minimal signer until the SDK's `submit` (edge/sdk)
// replaces it. Retries are safe: the body carries the idempotency key, so the edge answers a repeat
// with `duplicate: true` instead of a second signal. Neither the secret nor the signature is logged.
import type { Logger } from 'pino';
import { SIGNATURE_HEADER, signatureHeader } from '../../edge/auth.ts';
import type { SignalBody } from './host.ts';

export interface SignedRequest { url: string; headers: Record<string, string>; body: string }

/** Pure: the request for one signal, signed at `nowMs`. */
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createSigner(o: SignerOptions): Signer {
  const doFetch = o.fetch ?? fetch;
  const clock = o.clock ?? Date.now;
  const attempts = o.attempts ?? 5;
  const pending = new Set<Promise<void>>();
  const stats = { accepted: 0, duplicates: 0, refused: 0, failed: 0, dropped: 0 };

  async function send(strategy: string, body: SignalBody): Promise<void> {
    const secret = o.secretOf(strategy);
    if (secret === undefined) { stats.failed += 1; o.log.error({ strategy }, 'no secret configured for the strategy; signal dropped'); return; }
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let answer: unknown = null;
      try {
        const req = signedRequest(o.edgeUrl, secret, body, clock());
        const res = await doFetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(5_000) });
        status = res.status;
        answer = await res.json().catch(() => null);
      } catch (e) {
        answer = (e as Error).message;
      }
      if (status === 200 || status === 202) {
        if ((answer as { duplicate?: boolean } | null)?.duplicate) stats.duplicates += 1; else stats.accepted += 1;
        return;
      }
      const retriable = status === 0 || status === 429 || status >= 500;
      if (!retriable) {
        stats.refused += 1;
        o.log.warn({ strategy, status, error: answer, idempotencyKey: body.idempotencyKey }, 'signal refused by the edge');
        return;
      }
      if (attempt >= attempts) {
        stats.failed += 1;
        o.log.error({ strategy, status, error: answer, idempotencyKey: body.idempotencyKey, attempts }, 'signal not delivered; giving up');
        return;
      }
      await sleep(Math.min(200 * 2 ** (attempt - 1), 5_000));
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

// The one door to the gateway: every request goes through the global rate limiter (the gateway allows
// ~10 req/s and answers 429, then a penalty box, beyond it), per-endpoint pacing, a timeout, and one
// mapping of failures to IbkrError codes. Error messages carry the operation, never the URL: the URL
// holds the account id.
import { setTimeout as sleep } from 'node:timers/promises';
import type { IbkrConfig } from './config.ts';
import { IbkrError, maskAccount } from './errors.ts';

export interface IbkrRequest {
  operation: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  clientOrderId?: string | null;
  /** Minimum spacing between two calls of this key (endpoint pacing). */
  pacing?: { key: string; ms: number };
}

export interface IbkrResponse { status: number; json: unknown }

export interface IbkrHttp {
  /** Resolves for 2xx and for 4xx answers that carry an IBKR `error` body (the caller reads them). */
  request(req: IbkrRequest): Promise<IbkrResponse>;
  /** Called on 401: the gateway's brokerage session is gone. */
  onSessionLost(listener: () => void): void;
}

const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, seconds * 1000));
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - Date.now())) : null;
}

export function createIbkrHttp(config: IbkrConfig, fetchImpl: typeof fetch = fetch): IbkrHttp {
  const root = config.baseUrl.replace(/\/+$/, '');
  const interval = 1000 / config.requestsPerSecond;
  let nextSlot = 0;
  let blockedUntil = 0; // set by a 429: every request waits it out, not just the one that got it
  const lastByKey = new Map<string, number>();
  const lostListeners: (() => void)[] = [];

  /** Reserves a send time: slots are handed out in call order, so the limiter is fair and never bursts. */
  async function admit(pacing?: { key: string; ms: number }): Promise<void> {
    const now = Date.now();
    let at = Math.max(now, nextSlot, blockedUntil);
    if (pacing && pacing.ms > 0) at = Math.max(at, (lastByKey.get(pacing.key) ?? 0) + pacing.ms);
    nextSlot = at + interval;
    if (pacing) lastByKey.set(pacing.key, at);
    if (at > now) await sleep(at - now);
    // A 429 that arrived while we waited for our slot holds us too.
    while (Date.now() < blockedUntil) await sleep(blockedUntil - Date.now());
  }

  async function request(req: IbkrRequest): Promise<IbkrResponse> {
    const about = req.clientOrderId ? `ibkr ${req.operation} ${req.clientOrderId}` : `ibkr ${req.operation}`;
    const ctx = { operation: req.operation, clientOrderId: req.clientOrderId ?? null };
    await admit(req.pacing);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'order-router' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (config.sessionCookie) headers.cookie = `api=${config.sessionCookie.reveal()}`;
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(`${root}${req.path}`, {
        method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body), signal: AbortSignal.timeout(config.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') throw new IbkrError('VENUE_TIMEOUT', `${about}: no answer within ${config.timeoutMs} ms`, { ...ctx, cause: err });
      const reason = err instanceof Error && err.cause instanceof Error && 'code' in err.cause ? String(err.cause.code) : 'network error';
      throw new IbkrError('VENUE_UNAVAILABLE', `${about}: cannot reach the gateway (${reason})`, { ...ctx, cause: err });
    }
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    const venueText = (): string => {
      const e = json && typeof json === 'object' && 'error' in json ? String((json as { error: unknown }).error) : text.slice(0, 120);
      return maskAccount(e, config.accountId);
    };
    if (res.status === 429) {
      const wait = retryAfterMs(res.headers.get('retry-after')) ?? 1000;
      blockedUntil = Math.max(blockedUntil, Date.now() + wait);
      throw new IbkrError('VENUE_RATE_LIMITED', `${about}: gateway rate limit (retry after ${wait} ms)`, { ...ctx, status: 429, retryAfterMs: wait });
    }
    if (res.status === 401) {
      for (const l of lostListeners) l();
      throw new IbkrError('VENUE_SESSION_EXPIRED', `${about}: brokerage session not authenticated`, { ...ctx, status: 401 });
    }
    if (res.status >= 500) throw new IbkrError('VENUE_UNAVAILABLE', `${about}: HTTP ${res.status} (${venueText()})`, { ...ctx, status: res.status });
    if (res.status >= 400) {
      if (json && typeof json === 'object' && 'error' in json) return { status: res.status, json };
      const code = res.status === 404 ? 'VENUE_NOT_FOUND' : 'VENUE_REJECTED';
      throw new IbkrError(code, `${about}: HTTP ${res.status} (${venueText()})`, { ...ctx, status: res.status });
    }
    return { status: res.status, json };
  }

  return { request, onSessionLost: (l) => { lostListeners.push(l); } };
}

// The one door to the bridge: a rate gate under the bridge's quota (and held back by any 429's
// recommended retry time), the auth-token header, a deadline, and one mapping of HTTP failures to
// error codes. URLs carry the account id, so no message or log line here includes one.
import { createRateGate, retryAfterMs, venueFetch } from '../http.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error } from './errors.ts';
import { parseErrorBody } from './parse.ts';

export interface Mt5Request {
  operation: string;
  method: 'GET' | 'POST';
  /** Path under the account, e.g. `/orders`; `api: 'provisioning'` for the account record itself. */
  path: string;
  api?: 'client' | 'provisioning';
  body?: unknown;
  clientOrderId?: string | null;
  /** 404 (NotFoundError) answers null instead of throwing. */
  notFoundIsNull?: boolean;
}

export interface Mt5Http { request(req: Mt5Request): Promise<unknown> }

export function createMt5Http(config: Mt5Config, clock: () => number = Date.now): Mt5Http {
  const gate = createRateGate({ limit: config.requestsPerMinute, windowMs: 60_000, softRatio: 0.9, clock });
  const account = `/users/current/accounts/${encodeURIComponent(config.accountId)}`;
  const roots = { client: config.baseUrl.replace(/\/+$/, ''), provisioning: config.provisioningUrl.replace(/\/+$/, '') };

  async function request(req: Mt5Request): Promise<unknown> {
    const about = req.clientOrderId ? `mt5 ${req.operation} ${req.clientOrderId}` : `mt5 ${req.operation}`;
    const ctx = { operation: req.operation, clientOrderId: req.clientOrderId ?? null };
    await gate.take();
    const headers: Record<string, string> = { accept: 'application/json', 'auth-token': config.token.reveal() };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const url = `${roots[req.api ?? 'client']}${account}${req.path}`;
    const ans = await venueFetch(url, { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body) },
      { venue: 'mt5', operation: req.operation, clientOrderId: req.clientOrderId ?? null, timeoutMs: config.timeoutMs });
    if (ans.status >= 200 && ans.status < 300) return ans.json;
    if (ans.status === 404 && req.notFoundIsNull) return null;
    const body = parseErrorBody(ans.json, clock());
    const venueCode = body?.error ?? null;
    // The bridge's message may name the account; it is cut out, the rest kept for the operator.
    const message = body?.message ? `: ${body.message.split(config.accountId).join('…').slice(0, 120)}` : '';
    const detail = body ? `${body.error}${message}` : 'no error body';
    if (ans.status === 429) {
      const wait = body?.retryAfterMs ?? retryAfterMs(ans.headers, clock()) ?? 1_000;
      gate.blockFor(wait);
      throw new Mt5Error('VENUE_RATE_LIMITED', `${about}: bridge rate limit (retry after ${wait} ms)`, { ...ctx, status: 429, venueCode, retryAfterMs: wait });
    }
    if (ans.status === 401 || ans.status === 403) throw new Mt5Error('VENUE_AUTH', `${about}: the bridge refused the token (HTTP ${ans.status})`, { ...ctx, status: ans.status, venueCode });
    if (ans.status >= 500) throw new Mt5Error('VENUE_UNAVAILABLE', `${about}: HTTP ${ans.status} (${detail})`, { ...ctx, status: ans.status, venueCode });
    if (ans.status === 404) throw new Mt5Error('VENUE_NOT_FOUND', `${about}: HTTP 404 (${detail})`, { ...ctx, status: 404, venueCode });
    throw new Mt5Error('VENUE_REJECTED', `${about}: HTTP ${ans.status} (${detail})`, { ...ctx, status: ans.status, venueCode });
  }

  return { request };
}

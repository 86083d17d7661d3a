// Binance spot REST: signed requests (rest-api.md "SIGNED Endpoint Examples": HMAC-SHA256 over the
// query string followed by the body, timestamp + recvWindow, X-MBX-APIKEY), the server clock offset
// learnt at connect and after every -1021, and request weight paced from X-MBX-USED-WEIGHT-1M so we
// slow down before the limit rather than after the ban.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createRateGate, venueFetch, VenueError, type CallContext } from '../http.ts';
import type { BinanceConfig } from './config.ts';
import { binanceError } from './errors.ts';

export type Params = Record<string, string | number>;
export interface CallOptions {
  params?: Params; signed?: boolean; weight?: number; clientOrderId?: string;
  /** An error answer that means "nothing there" (e.g. -2013): return null instead of throwing. */
  nullOn?: (e: VenueError) => boolean;
}

export interface BinanceRest {
  call<S extends z.ZodType>(operation: string, method: string, path: string, schema: S, o?: CallOptions): Promise<z.output<S> | null>;
  must<S extends z.ZodType>(operation: string, method: string, path: string, schema: S, o?: CallOptions): Promise<z.output<S>>;
  syncTime(): Promise<void>;
  /** Our clock moved by the learnt offset: what the server's clock reads now. */
  serverNow(): number;
}

const encode = (p: Params) => new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString();

export function createBinanceRest(config: BinanceConfig, { log, clock }: { log?: Logger; clock: () => number }): BinanceRest {
  const venue = config.venue;
  const gate = createRateGate({ clock, limit: config.weightPerMinute });
  let offsetMs = 0;
  const sign = (query: string, body: string) => createHmac('sha256', config.secretKey.reveal()).update(query + body).digest('hex');

  async function call<S extends z.ZodType>(operation: string, method: string, path: string, schema: S, o: CallOptions = {}): Promise<z.output<S> | null> {
    const c: CallContext = { venue, operation, clientOrderId: o.clientOrderId, timeoutMs: config.timeoutMs };
    await gate.take(o.weight ?? 1);
    let params = { ...o.params };
    if (o.signed) params = { ...params, recvWindow: config.recvWindowMs, timestamp: Math.round(clock() + offsetMs) };
    // POST parameters travel in the body, the rest in the query; the signature covers both.
    const inBody = method === 'POST' && o.signed;
    let query = inBody ? '' : encode(params);
    let body = inBody ? encode(params) : '';
    if (o.signed) {
      const signature = sign(query, body);
      if (inBody) body += `&signature=${signature}`; else query += `${query ? '&' : ''}signature=${signature}`;
    }
    const res = await venueFetch(`${config.baseUrl}${path}${query ? `?${query}` : ''}`, {
      method,
      headers: { 'X-MBX-APIKEY': config.apiKey.reveal(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: body || undefined,
    }, c);
    const used = Number(res.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(used) && res.headers.has('x-mbx-used-weight-1m')) gate.observeUsed(used);
    if (res.status >= 400) {
      const err = binanceError(res.status, res.json, res.headers, c, clock());
      if (err.code === 'VENUE_RATE_LIMITED') gate.blockFor(err.retryAfterMs ?? 1_000);
      if (o.nullOn?.(err)) return null;
      if (err.code === 'VENUE_CLOCK_SKEW') await syncTime().catch(() => {}); // the retry then carries a good timestamp
      throw err;
    }
    const parsed = schema.safeParse(res.json);
    if (!parsed.success) throw new VenueError('VENUE_BAD_RESPONSE', `${venue} ${operation}: unreadable answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, { ...c, status: res.status });
    return parsed.data;
  }

  async function must<S extends z.ZodType>(operation: string, method: string, path: string, schema: S, o: CallOptions = {}): Promise<z.output<S>> {
    const v = await call(operation, method, path, schema, o);
    if (v === null) throw new VenueError('VENUE_NOT_FOUND', `${venue} ${operation}: nothing there`, { venue, operation, clientOrderId: o.clientOrderId });
    return v;
  }

  async function syncTime(): Promise<void> {
    const before = clock();
    const { serverTime } = await must('time', 'GET', '/api/v3/time', z.object({ serverTime: z.number() }));
    const after = clock();
    offsetMs = serverTime - Math.round((before + after) / 2);
    log?.debug({ venue, offsetMs }, 'server time offset learnt');
  }

  return { call, must, syncTime, serverNow: () => clock() + offsetMs };
}

// Configuration of the Binance spot connector: one zod schema, defaults only here, parsed once and
// frozen. Credentials come from the environment and live in Secret wrappers.
import { z } from 'zod';
import { Secret } from '../http.ts';
import { VENUE_SYMBOLS } from './symbols.ts';

export const BINANCE_LIVE_URL = 'https://api.binance.com';
export const BINANCE_TESTNET_URL = 'https://testnet.binance.vision';
// rest-api.md / web-socket-api.md "General API Information": the WebSocket API carries user data since
// the REST listen key was retired (CHANGELOG 2026-01-21: gone from 2026-02-20); market data streams stay.
const HOSTS: Record<string, { wsApi: string; stream: string }> = {
  [BINANCE_LIVE_URL]: { wsApi: 'wss://ws-api.binance.com:443/ws-api/v3', stream: 'wss://stream.binance.com:9443/ws' },
  [BINANCE_TESTNET_URL]: { wsApi: 'wss://ws-api.testnet.binance.vision/ws-api/v3', stream: 'wss://stream.testnet.binance.vision/ws' },
};

export const binanceConfigSchema = z.object({
  venue: z.string().min(1).default('binance'),
  baseUrl: z.string().url().default(BINANCE_TESTNET_URL),
  /** WebSocket API endpoint: user data (executionReport) through userDataStream.subscribe.signature. Derived for the known hosts. */
  wsApiUrl: z.string().url().optional(),
  /** Market data streams root (`<root>/<symbol>@bookTicker`). Derived for the known hosts. */
  streamUrl: z.string().url().optional(),
  apiKey: z.string().min(1),
  secretKey: z.string().min(1),
  timeoutMs: z.number().int().positive().default(5_000),
  /** How far our timestamp may be from the server's; Binance caps it at 60 s. */
  recvWindowMs: z.number().int().positive().max(60_000).default(5_000),
  /**
   * After a submit whose outcome is unknown (timeout, 5xx, -1006/-1007), how long the venue may still
   * apply it: the API waits 10 s for the matching engine (rest-api.md "General API Information"), so a
   * look-up that finds nothing is only conclusive once this has passed. Shorter only in tests.
   */
  unknownWindowMs: z.number().int().positive().default(10_000),
  /** Look-ups inside the unknown window, at most this often (GET /api/v3/order weighs 4). */
  unknownPollMs: z.number().int().positive().default(1_000),
  /** Venue symbols whose open orders reconciliation reads (weight 6 each instead of 80 for all symbols). */
  symbols: z.array(z.string().min(1)).min(1).default([...VENUE_SYMBOLS]),
  /** Request weight per minute of the account's IP limit; the gate waits at 80 %. */
  weightPerMinute: z.number().int().positive().default(6_000),
  reconnectMs: z.number().int().positive().default(1_000),
  maxReconnectMs: z.number().int().positive().default(30_000),
  pingMs: z.number().int().positive().default(20_000),
  /** A symbol's book ticker unchanged this long is read again over REST before it is published. */
  quoteStaleMs: z.number().int().positive().default(5_000),
});

export interface BinanceConfig {
  readonly venue: string;
  readonly baseUrl: string;
  readonly wsApiUrl: string;
  readonly streamUrl: string;
  readonly apiKey: Secret;
  readonly secretKey: Secret;
  readonly timeoutMs: number;
  readonly recvWindowMs: number;
  readonly unknownWindowMs: number;
  readonly unknownPollMs: number;
  readonly symbols: readonly string[];
  readonly weightPerMinute: number;
  readonly reconnectMs: number;
  readonly maxReconnectMs: number;
  readonly pingMs: number;
  readonly quoteStaleMs: number;
}

export function parseBinanceConfig(input: unknown): BinanceConfig {
  const r = binanceConfigSchema.safeParse(input);
  if (!r.success) {
    throw new Error(`invalid binance config: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const c = r.data;
  const base = c.baseUrl.replace(/\/+$/, '');
  const wsBase = base.replace(/^http/, 'ws');
  return Object.freeze({
    ...c, baseUrl: base, apiKey: new Secret(c.apiKey), secretKey: new Secret(c.secretKey), symbols: Object.freeze([...c.symbols]),
    wsApiUrl: (c.wsApiUrl ?? HOSTS[base]?.wsApi ?? `${wsBase}/ws-api/v3`).replace(/\/+$/, ''),
    streamUrl: (c.streamUrl ?? HOSTS[base]?.stream ?? `${wsBase}/ws`).replace(/\/+$/, ''),
  });
}

/**
 * BINANCE_BASE_URL, BINANCE_WS_API_URL, BINANCE_STREAM_URL, BINANCE_API_KEY, BINANCE_SECRET_KEY,
 * BINANCE_TIMEOUT_MS, BINANCE_RECV_WINDOW_MS, BINANCE_UNKNOWN_WINDOW_MS, BINANCE_SYMBOLS (comma-separated).
 */
export function binanceConfigFromEnv(env: NodeJS.ProcessEnv): BinanceConfig {
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  return parseBinanceConfig({
    baseUrl: env.BINANCE_BASE_URL || undefined, wsApiUrl: env.BINANCE_WS_API_URL || undefined, streamUrl: env.BINANCE_STREAM_URL || undefined,
    apiKey: env.BINANCE_API_KEY, secretKey: env.BINANCE_SECRET_KEY,
    timeoutMs: num(env.BINANCE_TIMEOUT_MS), recvWindowMs: num(env.BINANCE_RECV_WINDOW_MS), unknownWindowMs: num(env.BINANCE_UNKNOWN_WINDOW_MS),
    symbols: list(env.BINANCE_SYMBOLS),
  });
}

// Configuration of the Binance spot connector: one zod schema, defaults only here, parsed once and
// frozen. Credentials come from the environment and live in Secret wrappers.
import { z } from 'zod';
import { Secret } from '../http.ts';

export const BINANCE_LIVE_URL = 'https://api.binance.com';
export const BINANCE_TESTNET_URL = 'https://testnet.binance.vision';
const STREAMS: Record<string, string> = {
  [BINANCE_LIVE_URL]: 'wss://stream.binance.com:9443/ws',
  [BINANCE_TESTNET_URL]: 'wss://stream.testnet.binance.vision/ws',
};

export const binanceConfigSchema = z.object({
  venue: z.string().min(1).default('binance'),
  baseUrl: z.string().url().default(BINANCE_TESTNET_URL),
  /** User-data stream root; the listen key is appended. Derived for the known hosts. */
  streamUrl: z.string().url().optional(),
  apiKey: z.string().min(1),
  secretKey: z.string().min(1),
  timeoutMs: z.number().int().positive().default(5_000),
  /** How far our timestamp may be from the server's; Binance caps it at 60 s. */
  recvWindowMs: z.number().int().positive().max(60_000).default(5_000),
  /** Request weight per minute of the account's IP limit; the gate waits at 80 %. */
  weightPerMinute: z.number().int().positive().default(6_000),
  reconnectMs: z.number().int().positive().default(1_000),
  maxReconnectMs: z.number().int().positive().default(30_000),
  pingMs: z.number().int().positive().default(20_000),
  /** The listen key lapses after 60 min without a keep-alive. */
  keepAliveMs: z.number().int().positive().default(30 * 60_000),
});

export interface BinanceConfig {
  readonly venue: string;
  readonly baseUrl: string;
  readonly streamUrl: string;
  readonly apiKey: Secret;
  readonly secretKey: Secret;
  readonly timeoutMs: number;
  readonly recvWindowMs: number;
  readonly weightPerMinute: number;
  readonly reconnectMs: number;
  readonly maxReconnectMs: number;
  readonly pingMs: number;
  readonly keepAliveMs: number;
}

export function parseBinanceConfig(input: unknown): BinanceConfig {
  const r = binanceConfigSchema.safeParse(input);
  if (!r.success) {
    throw new Error(`invalid binance config: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const c = r.data;
  const base = c.baseUrl.replace(/\/+$/, '');
  return Object.freeze({
    ...c, baseUrl: base, apiKey: new Secret(c.apiKey), secretKey: new Secret(c.secretKey),
    streamUrl: (c.streamUrl ?? STREAMS[base] ?? `${base.replace(/^http/, 'ws')}/ws`).replace(/\/+$/, ''),
  });
}

/** BINANCE_BASE_URL, BINANCE_STREAM_URL, BINANCE_API_KEY, BINANCE_SECRET_KEY, BINANCE_TIMEOUT_MS, BINANCE_RECV_WINDOW_MS. */
export function binanceConfigFromEnv(env: NodeJS.ProcessEnv): BinanceConfig {
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return parseBinanceConfig({
    baseUrl: env.BINANCE_BASE_URL || undefined, streamUrl: env.BINANCE_STREAM_URL || undefined,
    apiKey: env.BINANCE_API_KEY, secretKey: env.BINANCE_SECRET_KEY,
    timeoutMs: num(env.BINANCE_TIMEOUT_MS), recvWindowMs: num(env.BINANCE_RECV_WINDOW_MS),
  });
}

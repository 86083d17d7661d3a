// Configuration of the Alpaca connector: one zod schema, defaults only here, parsed once and frozen.
// Credentials come from the environment and live in Secret wrappers, so no log or dump can print them.
import { z } from 'zod';
import { Secret } from '../http.ts';

export const ALPACA_PAPER_URL = 'https://paper-api.alpaca.markets';
export const ALPACA_LIVE_URL = 'https://api.alpaca.markets';

export const alpacaConfigSchema = z.object({
  venue: z.string().min(1).default('alpaca'),
  /** Trading API root: paper or live. */
  baseUrl: z.string().url().default(ALPACA_PAPER_URL),
  /** trade_updates WebSocket; derived from baseUrl (wss://host/stream) when unset. */
  streamUrl: z.string().url().optional(),
  keyId: z.string().min(1),
  secretKey: z.string().min(1),
  timeoutMs: z.number().int().positive().default(5_000),
  /** Alpaca allows 200 requests a minute per account; the gate slows down at 80 % of this. */
  requestsPerMinute: z.number().int().positive().default(200),
  /** First reconnect delay of the stream; doubles up to maxReconnectMs. */
  reconnectMs: z.number().int().positive().default(1_000),
  maxReconnectMs: z.number().int().positive().default(30_000),
  /** The client pings this often; a stream with no frame or pong for twice this long is reopened. */
  pingMs: z.number().int().positive().default(10_000),
  /** Orders stay in question (their fills re-read for corrections) this long after they are done. */
  activityLookbackMs: z.number().int().positive().default(86_400_000),
  /** A reconciliation round re-reads the whole activity window at most this often; in between, only what is new. */
  activityRescanMs: z.number().int().positive().default(300_000),
  /** Incremental activity reads start this long before the newest activity seen (late postings). */
  activityOverlapMs: z.number().int().min(0).default(60_000),
  /** Market data API root (latest quotes). */
  dataUrl: z.string().url().default('https://data.alpaca.markets'),
  /** Stock quotes feed: iex (free) or sip. */
  quoteFeed: z.enum(['iex', 'sip']).default('iex'),
  /** A quote older than this is no quote (a closed market keeps its last one). */
  quoteStaleMs: z.number().int().positive().default(60_000),
  /** Canonical symbols the desk trades here: quotes and instrument rules are read for these (ALPACA_SYMBOLS). */
  symbols: z.array(z.string().min(1)).min(1).default(['AAPL', 'MSFT', 'BTCUSD', 'ETHUSD']),
  /** Latest quotes are read at most this often, whatever the runtime's quote interval. */
  quoteRefreshMs: z.number().int().positive().default(2_000),
});

export interface AlpacaConfig {
  readonly venue: string;
  readonly baseUrl: string;
  readonly streamUrl: string;
  readonly keyId: Secret;
  readonly secretKey: Secret;
  readonly timeoutMs: number;
  readonly requestsPerMinute: number;
  readonly reconnectMs: number;
  readonly maxReconnectMs: number;
  readonly pingMs: number;
  readonly activityLookbackMs: number;
  readonly activityRescanMs: number;
  readonly activityOverlapMs: number;
  readonly dataUrl: string;
  readonly quoteFeed: 'iex' | 'sip';
  readonly quoteStaleMs: number;
  readonly quoteRefreshMs: number;
  readonly symbols: readonly string[];
}

/** Parses and freezes; a bad configuration throws naming the field, never its value. */
export function parseAlpacaConfig(input: unknown): AlpacaConfig {
  const r = alpacaConfigSchema.safeParse(input);
  if (!r.success) {
    throw new Error(`invalid alpaca config: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const c = r.data;
  const base = c.baseUrl.replace(/\/+$/, '');
  return Object.freeze({
    ...c, baseUrl: base, dataUrl: c.dataUrl.replace(/\/+$/, ''), keyId: new Secret(c.keyId), secretKey: new Secret(c.secretKey),
    streamUrl: c.streamUrl ?? `${base.replace(/^http/, 'ws')}/stream`,
  });
}

/** ALPACA_BASE_URL, ALPACA_STREAM_URL, ALPACA_DATA_URL, ALPACA_KEY_ID, ALPACA_SECRET_KEY, ALPACA_TIMEOUT_MS, ALPACA_SYMBOLS (comma-separated). */
export function alpacaConfigFromEnv(env: NodeJS.ProcessEnv): AlpacaConfig {
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return parseAlpacaConfig({
    baseUrl: env.ALPACA_BASE_URL || undefined, streamUrl: env.ALPACA_STREAM_URL || undefined, dataUrl: env.ALPACA_DATA_URL || undefined,
    keyId: env.ALPACA_KEY_ID, secretKey: env.ALPACA_SECRET_KEY, timeoutMs: num(env.ALPACA_TIMEOUT_MS),
    symbols: env.ALPACA_SYMBOLS ? env.ALPACA_SYMBOLS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
  });
}

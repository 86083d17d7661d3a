// Configuration of the IBKR Client Portal connector: one zod schema, defaults only here, parsed once and
// frozen. The account id and the optional session cookie come from the environment and are never logged
// (describeIbkrConfig is the only view of the config meant for logs).
import { z } from 'zod';
import { Secret } from '../http.ts';

export const ibkrConfigSchema = z.object({
  /** The Client Portal gateway (self-signed TLS: trust it with NODE_EXTRA_CA_CERTS). */
  baseUrl: z.string().url().default('https://localhost:5000/v1/api'),
  /** Derived from baseUrl (`/ws`, ws: or wss:) when absent. */
  wsUrl: z.string().url().optional(),
  accountId: z.string().regex(/^[A-Z0-9]{4,20}$/, 'expected an IBKR account id such as U1234567 or DU1234567'),
  /** Sent as the `api` cookie on requests and the websocket when the gateway is fronted by an auth proxy. */
  sessionCookie: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().default(10_000),
  /** The gateway's documented global ceiling is 10 req/s; we stay under it instead of collecting 429s. */
  requestsPerSecond: z.number().positive().max(50).default(10),
  /** Per-endpoint pacing documented for the gateway: live orders and trades once per 5 s each. */
  ordersPacingMs: z.number().int().min(0).default(5_000),
  tradesPacingMs: z.number().int().min(0).default(5_000),
  /** The session dies after ~6 min without traffic; /tickle well inside that. */
  tickleMs: z.number().int().positive().default(60_000),
  /** REST poll period while the websocket is down, waiting for its session, or silent. */
  pollMs: z.number().int().positive().default(5_000),
  /** REST reconciliation period while the websocket streams: the guarantee behind its fast path. */
  reconcileMs: z.number().int().positive().default(60_000),
  /** A websocket with no message (the gateway heartbeats every ~10 s) this long is reopened. */
  streamIdleMs: z.number().int().positive().default(30_000),
  reconnectMs: z.number().int().positive().default(500),
  /** Spacing of market-data snapshot requests (the runtime asks every quoteIntervalMs). */
  quotesPacingMs: z.number().int().min(0).default(500),
  /** A snapshot row not updated for this long is no quote. */
  quoteStaleMs: z.number().int().positive().default(15_000),
  /** Days of executions /iserver/account/trades returns (1..7). */
  tradesDays: z.number().int().min(1).max(7).default(1),
  confirm: z.object({
    /** Message ids auto-confirmed: o163 price constraint, o354 no market data, o383 size constraint. */
    messageIds: z.array(z.string().regex(/^o\d+$/)).default(['o163', 'o354', 'o383']),
    /** Case-insensitive regular expressions matched against question text that carries no message id. */
    texts: z.array(z.string().min(1)).default([]),
    /** A gateway that keeps asking after this many answers is treated as refusing. */
    maxRounds: z.number().int().min(1).max(20).default(5),
  }).prefault({}),
}).strict();

/** The parsed config; the session cookie sits in a Secret, so a dumped config prints [redacted]. */
export type IbkrConfig = Readonly<Omit<z.output<typeof ibkrConfigSchema>, 'sessionCookie'> & { sessionCookie?: Secret }>;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Parses and freezes; a bad value throws a message naming the field (never its value). */
export function parseIbkrConfig(input: unknown): IbkrConfig {
  const result = ibkrConfigSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ibkr config: ${detail}`);
  }
  // Fail at start, not on the first question.
  result.data.confirm.texts.forEach((pattern, i) => {
    try {
      new RegExp(pattern, 'i');
    } catch {
      throw new Error(`invalid ibkr config: confirm.texts.${i}: not a regular expression`);
    }
  });
  const { sessionCookie, ...rest } = result.data;
  return deepFreeze({ ...rest, ...(sessionCookie === undefined ? {} : { sessionCookie: new Secret(sessionCookie) }) });
}

/** Env: IBKR_BASE_URL, IBKR_WS_URL, IBKR_ACCOUNT_ID (required), IBKR_SESSION_COOKIE; `overrides` win. */
export function loadIbkrConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): IbkrConfig {
  const fromEnv: Record<string, unknown> = {};
  if (env.IBKR_BASE_URL) fromEnv.baseUrl = env.IBKR_BASE_URL;
  if (env.IBKR_WS_URL) fromEnv.wsUrl = env.IBKR_WS_URL;
  if (env.IBKR_ACCOUNT_ID) fromEnv.accountId = env.IBKR_ACCOUNT_ID;
  if (env.IBKR_SESSION_COOKIE) fromEnv.sessionCookie = env.IBKR_SESSION_COOKIE;
  return parseIbkrConfig({ ...fromEnv, ...overrides });
}

export function wsUrlOf(config: IbkrConfig): string {
  if (config.wsUrl) return config.wsUrl;
  const url = new URL(`${config.baseUrl.replace(/\/+$/, '')}/ws`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** What a log may show of the config. */
export function describeIbkrConfig(config: IbkrConfig): Record<string, unknown> {
  const { accountId, sessionCookie, ...rest } = config;
  return { ...rest, accountId: `${'*'.repeat(Math.max(0, accountId.length - 3))}${accountId.slice(-3)}`, sessionCookie: sessionCookie ? '[redacted]' : '[unset]' };
}

// Configuration of the MT5 connector through a MetaApi-style REST bridge: one zod schema, defaults
// only here, parsed once and frozen. The bridge token and account id come from the environment and are
// never logged (describeMt5Config is the only view of the config meant for logs).
import { z } from 'zod';
import { Secret } from '../http.ts';

export const mt5ConfigSchema = z.object({
  /** The bridge's trading API (MetaApi: the client API host of the account's region). */
  baseUrl: z.string().url().default('https://mt-client-api-v1.new-york.agiliumtrade.ai'),
  /** The bridge's account API, which says whether the terminal is connected to the broker. */
  provisioningUrl: z.string().url().default('https://mt-provisioning-api-v1.agiliumtrade.agiliumtrade.ai'),
  /** The bridge's id of the MT5 account (not the broker login). */
  accountId: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, 'expected the bridge account id (letters, digits, dashes)'),
  /** Sent as the `auth-token` header. */
  token: z.string().min(16, 'the bridge token looks truncated'),
  /** Our expert-advisor number on every order: orders without it are not ours. */
  magic: z.number().int().min(1).max(2_147_483_647).default(770_001),
  /** Broker symbol suffix (".m", ".pro"), appended to every symbol. */
  symbolSuffix: z.string().max(8).default(''),
  timeoutMs: z.number().int().positive().default(10_000),
  requestsPerMinute: z.number().int().positive().default(600),
  /** The bridge pushes nothing over REST: order and deal history is polled this often. */
  pollMs: z.number().int().positive().default(1_000),
  /** History the poll re-reads each round: deals amended within this window surface as corrections. */
  pollWindowMs: z.number().int().positive().default(3_600_000),
  /** How far back a look-up by comment searches history orders. */
  lookupWindowMs: z.number().int().positive().default(7 * 86_400_000),
  /** Look an order up before every first submit, not only before a resend (MT5 has no idempotency key). */
  lookupBeforeSubmit: z.boolean().default(true),
  /** A current price older than this is no quote (a closed market keeps its last price). */
  quoteStaleMs: z.number().int().positive().default(10_000),
  /** Current prices are read at most this often (one request per symbol), whatever the runtime's quote interval. */
  quoteRefreshMs: z.number().int().positive().default(2_000),
  /** Allowed deviation for market orders, in points. */
  slippagePoints: z.number().int().min(0).default(20),
}).strict();

/** The parsed config; the token sits in a Secret, so a dumped config prints [redacted]. */
export type Mt5Config = Readonly<Omit<z.output<typeof mt5ConfigSchema>, 'token'> & { token: Secret }>;

/** Parses and freezes; a bad value throws a message naming the field (never its value). */
export function parseMt5Config(input: unknown): Mt5Config {
  const result = mt5ConfigSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid mt5 config: ${detail}`);
  }
  return Object.freeze({ ...result.data, token: new Secret(result.data.token) });
}

/** Env: MT5_BRIDGE_URL, MT5_PROVISIONING_URL, MT5_ACCOUNT_ID and MT5_BRIDGE_TOKEN (required), MT5_MAGIC. */
export function loadMt5Config(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): Mt5Config {
  const fromEnv: Record<string, unknown> = {};
  if (env.MT5_BRIDGE_URL) fromEnv.baseUrl = env.MT5_BRIDGE_URL;
  if (env.MT5_PROVISIONING_URL) fromEnv.provisioningUrl = env.MT5_PROVISIONING_URL;
  if (env.MT5_ACCOUNT_ID) fromEnv.accountId = env.MT5_ACCOUNT_ID;
  if (env.MT5_BRIDGE_TOKEN) fromEnv.token = env.MT5_BRIDGE_TOKEN;
  // A non-number goes through to the schema, which then names the field.
  if (env.MT5_MAGIC) fromEnv.magic = Number(env.MT5_MAGIC);
  return parseMt5Config({ ...fromEnv, ...overrides });
}

/** What a log may show of the config. */
export function describeMt5Config(config: Mt5Config): Record<string, unknown> {
  const { token: _token, accountId, ...rest } = config;
  return { ...rest, accountId: `…${accountId.slice(-4)}`, token: '[redacted]' };
}

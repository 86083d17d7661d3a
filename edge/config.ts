// Edge configuration: one zod schema, parsed once at start, frozen. Defaults live only in the schema.
// Errors name the field (and its env variable) but never echo a value: values here include secrets
// and a TLS private key.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

// Strategy ids become part of idempotency ids (`<strategy>:<key>`), so ':' is kept out of them.
const strategyId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -');

const strategySchema = z.strictObject({
  id: strategyId,
  account: z.string().min(1).max(64),
  // Two active secrets let a strategy rotate without downtime: add the new one, move senders, drop the old.
  secrets: z.array(z.string().min(16, 'must be at least 16 characters')).min(1).max(2),
  /** When set, only these canonical symbols are accepted for the strategy (compared upper-case). */
  symbols: z.array(z.string().min(1).max(64).transform((s) => s.toUpperCase())).min(1).optional(),
});

const tlsSchema = z
  .strictObject({
    key: z.string().min(1),
    cert: z.string().min(1),
    requireClientCert: z.boolean().default(false),
    /** CA bundle that client certificates must chain to. */
    ca: z.string().min(1).optional(),
  })
  .refine((t) => !t.requireClientCert || t.ca !== undefined, { message: 'required when requireClientCert is true', path: ['ca'] });

export const edgeConfigSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default('127.0.0.1'),
    bodyLimit: z.number().int().min(256).max(1024 * 1024).default(16 * 1024),
    maxClockSkewSec: z.number().int().min(1).max(3600).default(300),
    /** Answer with 503 if `accept` has not finished by then: TradingView gives up after about 3 s. */
    acceptTimeoutMs: z.number().int().min(10).max(60_000).default(2500),
    /**
     * Source addresses (or CIDR ranges) allowed to call the TradingView webhook. TradingView's published
     * webhook addresses are 52.89.214.238, 34.212.75.30, 54.218.53.128, 52.32.178.7. Unset: any source.
     */
    allowedIps: z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()])).min(1).optional(),
    /** Take the client address from X-Forwarded-For. Only behind a proxy that overwrites that header. */
    trustProxy: z.boolean().default(false),
    tls: tlsSchema.optional(),
    strategies: z.array(strategySchema).min(1),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.strategies.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', message: 'duplicate strategy id', path: ['strategies', i, 'id'] });
      seen.add(s.id);
    });
  });

export type EdgeConfig = z.output<typeof edgeConfigSchema>;
export type StrategyConfig = EdgeConfig['strategies'][number];
export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;

const ENV_NAMES: Record<string, string> = {
  port: 'EDGE_PORT',
  host: 'EDGE_HOST',
  bodyLimit: 'EDGE_BODY_LIMIT',
  maxClockSkewSec: 'EDGE_MAX_CLOCK_SKEW_SEC',
  acceptTimeoutMs: 'EDGE_ACCEPT_TIMEOUT_MS',
  allowedIps: 'EDGE_ALLOWED_IPS',
  trustProxy: 'EDGE_TRUST_PROXY',
  tls: 'EDGE_TLS_*',
  strategies: 'ORDER_ROUTER_STRATEGIES / ORDER_ROUTER_STRATEGIES_FILE',
};

export class EdgeConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  readonly field: string;
  constructor(field: string, message: string) {
    const env = ENV_NAMES[field.split('.')[0]];
    super(`invalid edge config: ${field}${env ? ` (${env})` : ''}: ${message}`);
    this.name = 'EdgeConfigError';
    this.field = field;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validate a config object; throws EdgeConfigError naming the first bad field. */
export function parseEdgeConfig(input: unknown): Readonly<EdgeConfig> {
  const r = edgeConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    // zod messages describe the rule ("expected string to have >=16 characters"), never the input.
    throw new EdgeConfigError(path.length ? path.join('.') : 'config', issue.message);
  }
  return deepFreeze(r.data);
}

type Env = Readonly<Record<string, string | undefined>>;

// Well-formed strings become numbers/booleans; anything else is passed through so the schema rejects
// it with the field's name instead of this loader guessing.
const num = (v: string | undefined): unknown => (v === undefined || v === '' ? undefined : /^\d+$/.test(v) ? Number(v) : v);
const bool = (v: string | undefined): unknown =>
  v === undefined || v === '' ? undefined : v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(field, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parseStrategies(env: Env): unknown {
  const inline = env.ORDER_ROUTER_STRATEGIES;
  const file = env.ORDER_ROUTER_STRATEGIES_FILE;
  if (inline && file) throw new EdgeConfigError('strategies', 'set ORDER_ROUTER_STRATEGIES or ORDER_ROUTER_STRATEGIES_FILE, not both');
  const text = inline || (file ? readText(file, 'strategies') : undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // V8's JSON errors quote the text around the fault, which may be a secret.
    throw new EdgeConfigError('strategies', 'not valid JSON');
  }
}

/**
 * Build the edge config from the environment:
 * EDGE_PORT, EDGE_HOST, EDGE_BODY_LIMIT (bytes), EDGE_MAX_CLOCK_SKEW_SEC, EDGE_ACCEPT_TIMEOUT_MS,
 * EDGE_ALLOWED_IPS (comma list of IPs/CIDRs), EDGE_TRUST_PROXY (true|false),
 * EDGE_TLS_KEY_FILE + EDGE_TLS_CERT_FILE [+ EDGE_TLS_CA_FILE, EDGE_TLS_REQUIRE_CLIENT_CERT],
 * and the strategies as JSON in ORDER_ROUTER_STRATEGIES or in the file ORDER_ROUTER_STRATEGIES_FILE:
 * `[{"id":"trend-1","account":"acc-1","secrets":["<16+ chars>"],"symbols":["AAPL"]}]`.
 */
export function loadEdgeConfig(env: Env = process.env): Readonly<EdgeConfig> {
  const allowed = env.EDGE_ALLOWED_IPS?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const keyFile = env.EDGE_TLS_KEY_FILE;
  const certFile = env.EDGE_TLS_CERT_FILE;
  const tls =
    keyFile || certFile
      ? {
          key: keyFile ? readText(keyFile, 'tls.key') : undefined,
          cert: certFile ? readText(certFile, 'tls.cert') : undefined,
          ca: env.EDGE_TLS_CA_FILE ? readText(env.EDGE_TLS_CA_FILE, 'tls.ca') : undefined,
          requireClientCert: bool(env.EDGE_TLS_REQUIRE_CLIENT_CERT),
        }
      : undefined;
  return parseEdgeConfig({
    port: num(env.EDGE_PORT),
    host: env.EDGE_HOST || undefined,
    bodyLimit: num(env.EDGE_BODY_LIMIT),
    maxClockSkewSec: num(env.EDGE_MAX_CLOCK_SKEW_SEC),
    acceptTimeoutMs: num(env.EDGE_ACCEPT_TIMEOUT_MS),
    allowedIps: allowed && allowed.length > 0 ? allowed : undefined,
    trustProxy: bool(env.EDGE_TRUST_PROXY),
    tls,
    strategies: parseStrategies(env),
  });
}

// Hostile requests against the edge and the ops API, generated from an index so a run is reproducible
// and any one request can be replayed: malformed JSON, wrong types, huge bodies and headers, bad,
// replayed and stale signatures, unicode tricks, prototype keys, SQL in fields, tokens without the
// right role. Every case here must be refused with a 4xx and must produce nothing. Pure: the clock
// and the secrets come in.
import { signatureHeader } from '../../edge/auth.ts';
import type { Strategy } from './harness.ts';

export interface HostileContext {
  strategies: Strategy[];
  tokens: { admin: string; operator: string; viewer: string };
  /** Unix ms. */
  now: number;
}

export interface HostileCase {
  category: string;
  /** Short description of the variant, for the report. */
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Sent on a connection of its own: the server may close it after answering (431, 413, a framing error). */
  closesConnection?: boolean;
}

const JSON_CT = { 'content-type': 'application/json' };
const TEXT_CT = { 'content-type': 'text/plain' };

function tvBody(ctx: HostileContext, i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const s = ctx.strategies[i % ctx.strategies.length];
  return { secret: s.secrets[0], strategy: s.id, ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '1', idempotency_key: `hostile-${i}`, ...over };
}

function signed(ctx: HostileContext, i: number, body: string, o: { t?: number; secret?: string } = {}): Record<string, string> {
  const s = ctx.strategies[i % ctx.strategies.length];
  const t = o.t ?? Math.floor(ctx.now / 1000);
  return { ...JSON_CT, 'x-signature': signatureHeader(o.secret ?? s.secrets[0], t, body) };
}

const signedBody = (ctx: HostileContext, i: number, over: Record<string, unknown> = {}) => {
  const s = ctx.strategies[i % ctx.strategies.length];
  return JSON.stringify({ strategy: s.id, symbol: 'AAPL', intent: 'delta', side: 'buy', quantity: 1, idempotencyKey: `hostile-s-${i}`, ...over });
};

type Gen = (ctx: HostileContext, i: number, v: number) => HostileCase;

const pick = <T>(xs: readonly T[], v: number): T => xs[v % xs.length];

const malformed: Gen = (ctx, i, v) => {
  const s = ctx.strategies[i % ctx.strategies.length];
  const texts: [string, string | Buffer][] = [
    ['truncated', '{"secret":"' + s.secrets[0] + '","strategy":"' + s.id + '"'],
    ['trailing comma', '{"a":1,}'],
    ['single quotes', "{'secret':'x'}"],
    ['NaN literal', '{"contracts":NaN}'],
    ['two objects', '{"a":1}{"b":2}'],
    ['empty', ''],
    ['null', 'null'],
    ['array', '[1,2,3]'],
    ['string', '"hello"'],
    ['number overflow', '1e999'],
    ['deep nesting', '{"a":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}'],
    ['invalid utf-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ['NUL bytes', '{"a":"\u0000"}\u0000'],
    ['BOM then garbage', '\ufeff{{'],
    ['unterminated string', '{"secret":"abc'],
    ['comment', '{/* c */"a":1}'],
  ];
  const [what, body] = pick(texts, v);
  const path = v % 3 === 2 ? '/signals' : '/webhooks/tradingview';
  return { category: 'malformed-json', what, method: 'POST', path, headers: v % 2 ? TEXT_CT : JSON_CT, body };
};

const wrongTypes: Gen = (ctx, i, v) => {
  const variants: [string, Record<string, unknown>][] = [
    ['contracts object', { contracts: {} }], ['contracts array', { contracts: [1] }], ['contracts bool', { contracts: true }],
    ['contracts null', { contracts: null }], ['contracts text', { contracts: 'ten' }], ['contracts negative', { contracts: '-1' }],
    ['contracts zero', { contracts: 0 }], ['contracts hex', { contracts: '0x10' }], ['contracts Infinity', { contracts: 'Infinity' }],
    ['contracts overflow', { contracts: '1e999' }], ['contracts blank', { contracts: ' 10' }],
    ['action number', { action: 1 }], ['action unknown', { action: 'hold' }], ['action null', { action: null }],
    ['ticker number', { ticker: 123 }], ['ticker empty', { ticker: '' }], ['ticker long', { ticker: 'X'.repeat(100) }], ['ticker object', { ticker: {} }],
    ['time text', { time: 'yesterday' }], ['time negative', { time: -5 }], ['time fraction', { time: 1.5 }], ['time bad date', { time: '2024-13-45T00:00:00Z' }],
    ['price negative', { price: '-1' }], ['order type', { order_type: 'stop' }], ['limit without limit type', { limit_price: 10 }],
    ['limit without price', { order_type: 'limit' }], ['market position', { market_position: 'sideways' }],
    // Fields the edge does not read are kept as extras (202); these look like fields it reads, or are too many.
    ['near-miss field', { limitPrice: 10 }], ['account in body', { account: 'SOMEONE-ELSE' }],
    ['too many extra fields', Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`x${k}`, k]))], ['idempotency key spaces', { idempotency_key: 'a b' }], ['idempotency key long', { idempotency_key: 'k'.repeat(200) }],
    ['intent unknown', { intent: 'yolo' }], ['target without position', { intent: 'target' }],
  ];
  const [what, over] = pick(variants, v);
  if (v % 5 === 4) {
    // The signed route: a valid signature over a body with a bad field reaches validation.
    const sv: [string, Record<string, unknown>][] = [
      ['intent missing', { intent: undefined }], ['quantity text', { quantity: 'one' }], ['target with side', { intent: 'target', target: 5 }],
      ['flat with quantity', { intent: 'flat', side: undefined }], ['symbol array', { symbol: ['AAPL'] }], ['limit price zero', { orderType: 'limit', limitPrice: 0 }],
    ];
    const [w2, o2] = pick(sv, Math.floor(v / 5));
    const body = signedBody(ctx, i, o2);
    return { category: 'wrong-types', what: `signed: ${w2}`, method: 'POST', path: '/signals', headers: signed(ctx, i, body), body };
  }
  return { category: 'wrong-types', what, method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, over)) };
};

const huge: Gen = (ctx, i, v) => {
  const kind = v % 6;
  if (kind === 0 || kind === 1) {
    // Bodies over the limit, with a valid secret at the front.
    const size = pick([17_000, 40_000, 100_000, 300_000, 1_000_000], Math.floor(v / 6));
    const b = tvBody(ctx, i, { order_id: 'x'.repeat(size) });
    // The edge answers 413 from the length header and closes without reading the rest, so the client may
    // still be writing when the socket closes (EPIPE): a refusal too.
    return { category: 'huge-body', what: `${size} byte field`, method: 'POST', path: kind ? '/signals' : '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(b), closesConnection: true };
  }
  if (kind === 2) {
    // Over the HTTP parser's header limit (16 KiB): node answers 431.
    return { category: 'huge-header', what: '20 KiB header', method: 'POST', path: '/webhooks/tradingview', headers: { ...JSON_CT, 'x-pad': 'p'.repeat(20_000) }, body: JSON.stringify(tvBody(ctx, i)), closesConnection: true };
  }
  if (kind === 3) {
    const key = 'k'.repeat(pick([129, 1000, 8000], Math.floor(v / 6)));
    return { category: 'huge-header', what: `Idempotency-Key ${key.length} chars`, method: 'POST', path: '/webhooks/tradingview', headers: { ...JSON_CT, 'idempotency-key': key }, body: JSON.stringify(tvBody(ctx, i)) };
  }
  if (kind === 4) {
    const headers: Record<string, string> = { ...JSON_CT };
    for (let h = 0; h < 200; h++) headers[`x-many-${h}`] = 'v'.repeat(100);
    return { category: 'huge-header', what: '200 headers', method: 'POST', path: '/webhooks/tradingview', headers, body: JSON.stringify(tvBody(ctx, i)), closesConnection: true };
  }
  return { category: 'huge-header', what: '20 KiB URL', method: 'GET', path: `/webhooks/tradingview?${'q'.repeat(20_000)}`, headers: {}, closesConnection: true };
};

const badSignature: Gen = (ctx, i, v) => {
  const body = signedBody(ctx, i);
  const other = ctx.strategies[(i + 1) % ctx.strategies.length];
  const t = Math.floor(ctx.now / 1000);
  const good = signatureHeader(ctx.strategies[i % ctx.strategies.length].secrets[0], t, body);
  const variants: [string, string | null, string][] = [
    ['missing', null, body],
    ['garbage', 'garbage', body],
    ['bad fields', 't=abc,v1=zz', body],
    ['other strategy secret', signatureHeader(other.secrets[0], t, body), body],
    ['signature of another body (replayed onto a changed body)', good, body.replace('"quantity":1', '"quantity":100')],
    ['timestamp changed after signing (replay)', good.replace(`t=${t}`, `t=${t + 1}`), body],
    ['two timestamps', `t=${t},t=${t},${good.split(',')[1]}`, body],
    ['13-digit t', `t=${t}000,${good.split(',')[1]}`, body],
    ['truncated v1', good.slice(0, -2), body],
    ['empty', '', body],
    ['v0 only', `t=${t},v0=${'a'.repeat(64)}`, body],
    ['secret as header', ctx.strategies[i % ctx.strategies.length].secrets[0], body],
  ];
  const [what, header, b] = pick(variants, v);
  return { category: 'bad-signature', what, method: 'POST', path: '/signals', headers: header === null ? JSON_CT : { ...JSON_CT, 'x-signature': header }, body: b };
};

const stale: Gen = (ctx, i, v) => {
  const body = signedBody(ctx, i);
  const skew = pick([-330, -600, -3600, -86_400, -86_400 * 365, 330, 3600], v);
  const t = Math.floor(ctx.now / 1000) + skew;
  return { category: 'stale-timestamp', what: `t ${skew >= 0 ? '+' : ''}${skew} s`, method: 'POST', path: '/signals', headers: signed(ctx, i, body, { t: Math.max(0, t) }), body };
};

const unicode: Gen = (ctx, i, v) => {
  const s = ctx.strategies[i % ctx.strategies.length];
  const variants: [string, Record<string, unknown>][] = [
    ['homoglyph strategy (Cyrillic)', { strategy: s.id.replace('c', '\u0441') }],
    ['strategy with U+2010 hyphen', { strategy: s.id.replace('-', '\u2010') }],
    ['secret + zero-width space', { secret: `${s.secrets[0]}\u200b` }],
    ['secret NFKC lookalike', { secret: s.secrets[0].replace(/[a-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)) }],
    ['ticker zero-width', { ticker: 'AAPL\u200b' }], ['ticker fullwidth', { ticker: '\uff21\uff21\uff30\uff2c' }],
    ['ticker RTL override', { ticker: 'AAPL\u202e' }], ['ticker NUL', { ticker: 'A\u0000PL' }], ['ticker lone surrogate', { ticker: 'AAPL\ud800' }],
    ['ticker emoji', { ticker: '\ud83d\ude80' }], ['action fullwidth', { action: '\uff42\uff55\uff59' }], ['contracts fullwidth digits', { contracts: '\uff11\uff10' }],
    ['contracts Arabic-Indic digits', { contracts: '\u0661\u0660' }], ['key with zero-width', { 'secret\u200b': s.secrets[0], secret: undefined }],
    ['key NFC/NFD twin', { ['acti\u006f\u0301n']: 'buy' }],
    // Unicode case mapping makes ASCII out of these: 'ſpy' upper-cases to SPY, 'ﬁ' to FI, 'ıbm' to IBM.
    ['ticker long s (ſpy)', { ticker: '\u017fpy' }], ['ticker ligature (ﬁ)', { ticker: '\ufb01' }], ['ticker dotless i (ıbm)', { ticker: '\u0131bm' }],
  ];
  const [what, over] = pick(variants, v);
  return { category: 'unicode', what, method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, over)) };
};

const protoKeys: Gen = (ctx, i, v) => {
  const s = ctx.strategies[i % ctx.strategies.length];
  const base = JSON.stringify(tvBody(ctx, i)).slice(1, -1);
  const variants: [string, string][] = [
    ['__proto__ top level', `{${base},"__proto__":{"admin":true}}`],
    ['constructor.prototype', `{${base},"constructor":{"prototype":{"polluted":1}}}`],
    ['prototype key', `{${base},"prototype":{}}`],
    ['__proto__ first (before secret)', `{"__proto__":{"secret":"${s.secrets[0]}"},"strategy":"${s.id}"}`],
    ['nested __proto__ in array', `{${base},"x":[{"__proto__":{"y":1}}]}`],
    ['escaped __proto__', `{${base},"\\u005f_proto__":{"z":1}}`],
  ];
  const [what, body] = pick(variants, v);
  if (v % 4 === 3) {
    const b = signedBody(ctx, i).slice(0, -1) + ',"__proto__":{"quantity":1000}}';
    return { category: 'proto-keys', what: `signed: __proto__`, method: 'POST', path: '/signals', headers: signed(ctx, i, b), body: b };
  }
  if (v % 4 === 2) {
    return { category: 'proto-keys', what: `ops limits body: ${what}`, method: 'PUT', path: '/ops/limits/desk/*', headers: { ...JSON_CT, authorization: `Bearer ${ctx.tokens.admin}` }, body: '{"__proto__":{"maxPosition":1},"constructor":{"prototype":{"maxPosition":1}}}' };
  }
  return { category: 'proto-keys', what, method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body };
};

const sql: Gen = (ctx, i, v) => {
  const inj = pick(["' OR '1'='1", "'; DROP TABLE edge_signals; --", "1; DELETE FROM positions", "' UNION SELECT secret FROM strategies --", "$$; TRUNCATE executions; $$"], v);
  const variants: (() => HostileCase)[] = [
    () => ({ category: 'sql', what: 'strategy', method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, { strategy: `chaos-0${inj}` })) }),
    () => ({ category: 'sql', what: 'secret', method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, { secret: inj })) }),
    () => ({ category: 'sql', what: 'ticker', method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, { ticker: `AAPL${inj}` })) }),
    () => ({ category: 'sql', what: 'idempotency key (body)', method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, { idempotency_key: `k${inj}` })) }),
    () => ({ category: 'sql', what: 'Idempotency-Key header', method: 'POST', path: '/webhooks/tradingview', headers: { ...JSON_CT, 'idempotency-key': `k${inj}` }, body: JSON.stringify(tvBody(ctx, i)) }),
    () => ({ category: 'sql', what: 'action', method: 'POST', path: '/webhooks/tradingview', headers: JSON_CT, body: JSON.stringify(tvBody(ctx, i, { action: `buy${inj}` })) }),
    () => ({ category: 'sql', what: 'ops scope', method: 'PUT', path: `/ops/limits/${encodeURIComponent(`desk${inj}`)}/x`, headers: { ...JSON_CT, authorization: `Bearer ${ctx.tokens.admin}` }, body: '{}' }),
    () => ({ category: 'sql', what: 'ops audit cursor', method: 'GET', path: `/ops/audit?before=${encodeURIComponent(`1${inj}`)}`, headers: { authorization: `Bearer ${ctx.tokens.viewer}` } }),
    () => ({ category: 'sql', what: 'ops bearer token', method: 'GET', path: '/ops/limits', headers: { authorization: `Bearer x${inj.replace(/\s/g, '')}` } }),
    () => ({ category: 'sql', what: 'ops halt scope', method: 'POST', path: '/ops/halt', headers: { ...JSON_CT, authorization: `Bearer ${ctx.tokens.operator}` }, body: JSON.stringify({ scope: `desk${inj}` }) }),
  ];
  return pick(variants, Math.floor(v / 5))();
};

const opsAuth: Gen = (ctx, i, v) => {
  const variants: [string, string, string, Record<string, string>, string | undefined][] = [
    ['no token: halt', 'POST', '/ops/halt', JSON_CT, '{"scope":"desk"}'],
    ['bad token: limits', 'GET', '/ops/limits', { authorization: 'Bearer not-a-real-token-not-a-real-token' }, undefined],
    ['near-miss admin token', 'PUT', '/ops/limits/desk/*', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.admin}x` }, '{"maxPosition":1}'],
    ['basic auth', 'GET', '/ops/states', { authorization: `Basic ${Buffer.from(`admin:${ctx.tokens.admin}`).toString('base64')}` }, undefined],
    ['token in query', 'GET', `/ops/limits?token=${ctx.tokens.admin}`, {}, undefined],
    ['viewer halts the desk', 'POST', '/ops/halt', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.viewer}` }, '{"scope":"desk","reason":"viewer"}'],
    ['viewer halts an account', 'POST', '/ops/halt', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.viewer}` }, '{"scope":"account","target":"CHAOS-0"}'],
    ['viewer resumes', 'POST', '/ops/resume', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.viewer}` }, '{"scope":"desk"}'],
    ['viewer reduces', 'POST', '/ops/reduce', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.viewer}` }, '{"scope":"desk"}'],
    ['viewer sets limits', 'PUT', '/ops/limits/desk/*', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.viewer}` }, '{"maxPosition":1}'],
    ['viewer clears limits', 'DELETE', '/ops/limits/account/CHAOS-0', { authorization: `Bearer ${ctx.tokens.viewer}` }, undefined],
    ['operator sets limits', 'PUT', '/ops/limits/desk/*', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.operator}` }, '{"maxPosition":1}'],
    ['admin with a bad limit value', 'PUT', '/ops/limits/desk/*', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.admin}` }, '{"maxPosition":"lots"}'],
    ['admin with unknown scope', 'POST', '/ops/halt', { ...JSON_CT, authorization: `Bearer ${ctx.tokens.admin}` }, '{"scope":"galaxy"}'],
    ['strategy secret as bearer token', 'GET', '/ops/limits', { authorization: `Bearer ${ctx.strategies[0].secrets[0]}` }, undefined],
  ];
  const [what, method, path, headers, body] = pick(variants, v);
  return { category: 'ops-auth', what, method, path, headers, body };
};

const protocol: Gen = (ctx, i, v) => {
  const body = JSON.stringify(tvBody(ctx, i));
  const variants: HostileCase[] = [
    { category: 'protocol', what: 'xml content type', method: 'POST', path: '/webhooks/tradingview', headers: { 'content-type': 'application/xml' }, body },
    { category: 'protocol', what: 'form content type', method: 'POST', path: '/webhooks/tradingview', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'secret=x&strategy=y' },
    { category: 'protocol', what: 'multipart', method: 'POST', path: '/webhooks/tradingview', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\n\r\nhi\r\n--x--' },
    { category: 'protocol', what: 'no content type', method: 'POST', path: '/webhooks/tradingview', headers: {}, body },
    { category: 'protocol', what: 'GET on the webhook', method: 'GET', path: '/webhooks/tradingview', headers: {} },
    { category: 'protocol', what: 'PUT on signals', method: 'PUT', path: '/signals', headers: JSON_CT, body },
    { category: 'protocol', what: 'path traversal', method: 'GET', path: '/webhooks/../../etc/passwd', headers: {} },
    { category: 'protocol', what: 'encoded traversal', method: 'GET', path: '/%2e%2e/%2e%2e/etc/passwd', headers: {} },
    { category: 'protocol', what: 'double slash', method: 'POST', path: '//webhooks//tradingview', headers: JSON_CT, body: '{' },
    { category: 'protocol', what: 'TRACE', method: 'TRACE', path: '/webhooks/tradingview', headers: {} },
    { category: 'protocol', what: 'content-length lies (short)', method: 'POST', path: '/webhooks/tradingview', headers: { ...JSON_CT, 'content-length': '5' }, body: body.slice(0, 5) },
    { category: 'protocol', what: 'unknown route', method: 'POST', path: '/admin', headers: JSON_CT, body },
    { category: 'protocol', what: 'X-Forwarded-For spoof + bad secret', method: 'POST', path: '/webhooks/tradingview', headers: { ...JSON_CT, 'x-forwarded-for': '52.89.214.238' }, body: JSON.stringify(tvBody(ctx, i, { secret: 'nope-nope-nope-nope' })) },
  ];
  return pick(variants, v);
};

const GENERATORS: [string, Gen][] = [
  ['malformed-json', malformed], ['wrong-types', wrongTypes], ['huge', huge], ['bad-signature', badSignature], ['stale-timestamp', stale],
  ['unicode', unicode], ['proto-keys', protoKeys], ['sql', sql], ['ops-auth', opsAuth], ['protocol', protocol],
];

/** The i-th hostile request. Huge bodies are rarer than the rest (they cost the sender, not the edge). */
export function hostileCase(ctx: HostileContext, i: number): HostileCase {
  const [, gen] = GENERATORS[i % GENERATORS.length];
  return gen(ctx, i, Math.floor(i / GENERATORS.length));
}

export const HOSTILE_CATEGORIES = GENERATORS.map(([c]) => c);

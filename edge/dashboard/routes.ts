// The dashboard's HTTP routes, a Fastify plugin registered on the edge app. The page and its scripts
// are public (they hold no data); everything else needs an ops token: the JSON routes take it as a
// bearer header, the event stream a ticket from POST /dashboard/session (see ticket.ts for why).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { EdgeError } from '../errors.ts';
import type { OpsAuth, OpsIdentity } from '../ops/auth.ts';
import { sseFrame, type Frame, type Store } from './store.ts';
import type { Tickets } from './ticket.ts';

export interface DashboardRouteDeps {
  store: Store; auth: OpsAuth; tickets: Tickets;
  /** A stream is closed after this long; the page reconnects with a new ticket. */
  streamMaxMs: number;
  heartbeatMs?: number;
}

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
};
// The page loads nothing from elsewhere and runs no inline script: an injected string in a symbol or
// a reason code can be displayed, never executed.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** A browser this far behind gets disconnected; it reconnects and starts again from a snapshot. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const errorAnswer = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;
const errors = { '4xx': errorAnswer, '5xx': errorAnswer } as const;
const session = {
  type: 'object', required: ['name', 'role', 'ticket', 'expiresAt'],
  properties: { name: { type: 'string' }, role: { type: 'string' }, ticket: { type: 'string' }, expiresAt: { type: 'number' } },
  additionalProperties: false,
} as const;

function loadStatic(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(STATIC_DIR, name)), type });
  }
  return files;
}

export function dashboardRoutes(deps: DashboardRouteDeps) {
  return async function dashboard(app: FastifyInstance): Promise<void> {
    const files = loadStatic();
    const streams = new Set<() => void>();

    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      return payload;
    });
    // An open stream would keep app.close() waiting for ever.
    app.addHook('preClose', async () => { for (const end of [...streams]) end(); });

    const asset = (name: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
      const f = files.get(name);
      if (!f) throw new EdgeError('NOT_FOUND', 'not found');
      return reply.header('content-type', f.type).header('cache-control', 'no-cache').send(f.body);
    };
    app.get('/', asset('index.html'));
    app.get<{ Params: { name: string } }>('/static/:name', { schema: { params: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+\\.(js|css|svg)$' } } } } },
      (req, reply) => asset(req.params.name)(req, reply));

    const bearer = async (req: FastifyRequest, reply: FastifyReply): Promise<OpsIdentity> => {
      const who = await deps.auth.authenticate(req.headers.authorization);
      if (who === null) {
        reply.header('www-authenticate', 'Bearer realm="ops"');
        throw new EdgeError('UNAUTHORIZED', 'missing or invalid bearer token');
      }
      return who;
    };

    app.post('/session', { schema: { response: { 200: session, ...errors } } }, async (req, reply) => {
      const who = await bearer(req, reply);
      const { ticket, expiresAt } = deps.tickets.issue(who);
      return reply.header('cache-control', 'no-store').send({ name: who.name, role: who.role, ticket, expiresAt });
    });

    // The 200 body is the stream's snapshot, already serialised (see store.ts for its shape).
    app.get('/api/snapshot', { schema: { response: { 200: { type: 'object', additionalProperties: true }, ...errors } } }, async (req, reply) => {
      await bearer(req, reply);
      return reply.header('cache-control', 'no-store').type('application/json').send(deps.store.snapshot().data);
    });

    app.get<{ Querystring: { ticket?: string } }>(
      '/events',
      { schema: { querystring: { type: 'object', properties: { ticket: { type: 'string', maxLength: 1024 } } }, response: { ...errors } } },
      async (req, reply) => {
        if (deps.tickets.verify(req.query.ticket) === null) throw new EdgeError('UNAUTHORIZED', 'missing, expired or invalid ticket');
        reply.hijack();
        stream(reply.raw);
      },
    );

    function stream(raw: ServerResponse): void {
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
        'x-accel-buffering': 'no', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff',
      });
      let open = true;
      const write = (text: string) => { if (open) raw.write(text); };
      const end = (reason: string) => {
        if (!open) return;
        write(`event: bye\ndata: ${JSON.stringify({ reason })}\n\n`);
        open = false;
        unsubscribe();
        clearInterval(heartbeat);
        clearTimeout(lifetime);
        streams.delete(closeNow);
        raw.end();
      };
      const closeNow = () => end('server closing');
      const send = (f: Frame) => {
        if (raw.writableLength > MAX_BUFFERED_BYTES) return end('too slow');
        write(sseFrame(f));
      };
      // Subscribed before the snapshot is taken, in the same synchronous step: no delta falls between.
      const unsubscribe = deps.store.subscribe(send);
      write('retry: 2000\n\n');
      write(sseFrame(deps.store.snapshot()));
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), deps.heartbeatMs ?? 15_000);
      const lifetime = setTimeout(() => end('expired'), deps.streamMaxMs);
      streams.add(closeNow);
      raw.on('close', () => end('client gone'));
    }
  };
}

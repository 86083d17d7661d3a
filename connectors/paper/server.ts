// HTTP shell around the paper venue core. Wire format (JSON bodies, venue symbols = canonical):
//
//   POST   /v1/orders  {clientOrderId, symbol, side, quantity, type, limitPrice?, stopPrice?, trailAmount?, trailPercent?, timeInForce}
//          201 order state (new) | 200 order state (repeat of a known clientOrderId, nothing created)
//          400 {code:'INVALID_REQUEST', message, field}. Business rejects (UNKNOWN_SYMBOL, INVALID_QUANTITY
//          off the lot grid, INVALID_PRICE off the tick grid, RANDOM_REJECT) are 201 with status REJECTED.
//   GET    /v1/orders/:clientOrderId   order state | 404 {code:'ORDER_NOT_FOUND'}
//   DELETE /v1/orders/:clientOrderId   order state after cancel (a final order comes back unchanged) | 404
//   GET    /v1/orders?status=open|all  [order state]
//   GET    /v1/quotes?symbols=A,B      [{symbol, bid, ask, bidSize, askSize, venueTime}] | 400 on an unknown symbol
//   GET    /v1/events[?since=<seq>]    text/event-stream; each event `id: <seq>`, `event: order|correction|bust`,
//          `data: <VenueEvent JSON>`; `since` (or Last-Event-ID) replays every kept event after <seq>; then one
//          `event: ready` whose id is the current sequence, then live events.
//   GET    /v1/stats                   counters + eventSeq + submits (connectors/submitLedger.ts: submit attempts
//          per clientOrderId in arrival order, resends, and blind resends: a resend with no look-up since the last submit)
//   GET    /v1/health                  {status:'ok', venue:'paper', eventSeq, time}
//   GET|PUT /v1/admin/knobs            {latencyMs, rejectRate, partialFillRatio, outage, dropResponses}
//   POST   /v1/admin/fills/:tradeId/correct {price?, quantity?}  |  POST /v1/admin/fills/:tradeId/bust
//          {event} | 404 {code:'FILL_NOT_FOUND'}
// Order state = VenueOrderState of connectors/venue.ts. Faults: `latencyMs` delays every non-admin request;
// `outage` answers 503 {code:'VENUE_OUTAGE'} to all but /v1/admin and /v1/stats and cuts open event
// streams; `dropResponses` performs POST/DELETE on orders but never answers (the connection is held
// until the client gives up, at most maxHoldMs).
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { LogController, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createSubmitLedger } from '../submitLedger.ts';
import type { VenueEvent } from '../venue.ts';
import { knobsPatchSchema, type PaperConfig } from './config.ts';
import { mulberry32 } from './marketData.ts';
import { createPaperVenue } from './venue.ts';
import type { PaperVenue } from './venueApi.ts';

const orderBodySchema = z
  .object({
    clientOrderId: z.string().min(1).max(128),
    symbol: z.string().min(1).max(32),
    side: z.enum(['BUY', 'SELL']),
    quantity: z.number().positive(),
    type: z.enum(['MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT', 'TRAILING_STOP']),
    limitPrice: z.number().positive().nullish(),
    stopPrice: z.number().positive().nullish(),
    trailAmount: z.number().positive().nullish(),
    trailPercent: z.number().positive().lt(100).nullish(),
    timeInForce: z.enum(['IOC', 'GTC', 'DAY', 'FOK']),
  })
  .strict()
  .superRefine((body, ctx) => {
    const needs = (field: 'limitPrice' | 'stopPrice', types: string[]) => {
      const want = types.includes(body.type);
      if (want && body[field] == null) ctx.addIssue({ code: 'custom', path: [field], message: `required for ${body.type} orders` });
      if (!want && body[field] != null) ctx.addIssue({ code: 'custom', path: [field], message: `not allowed for ${body.type} orders` });
    };
    needs('limitPrice', ['LIMIT', 'STOP_LIMIT']);
    needs('stopPrice', ['STOP', 'STOP_LIMIT']);
    const trails = Number(body.trailAmount != null) + Number(body.trailPercent != null);
    if (body.type === 'TRAILING_STOP' ? trails !== 1 : trails !== 0) {
      ctx.addIssue({ code: 'custom', path: ['trailAmount'], message: body.type === 'TRAILING_STOP' ? 'one of trailAmount, trailPercent required' : `not allowed for ${body.type} orders` });
    }
  });
const ordersQuerySchema = z.object({ status: z.enum(['open', 'all']).default('open') });
const quotesQuerySchema = z.object({ symbols: z.string().optional() });
const eventsQuerySchema = z.object({ since: z.coerce.number().int().min(0).optional() });
const amendmentSchema = z
  .object({ price: z.number().positive().optional(), quantity: z.number().positive().optional() })
  .strict()
  .refine((a) => a.price !== undefined || a.quantity !== undefined, { message: 'price or quantity required' });

export interface PaperVenueServerOptions {
  config: PaperConfig;
  log: Logger;
  /** Injected for tests; wall clock otherwise. */
  clock?: () => number;
}

interface JournalEntry {
  seq: number;
  event: VenueEvent;
}

class BadRequest extends Error {
  readonly field: string | null;
  constructor(field: string | null, message: string) {
    super(message);
    this.field = field;
  }
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new BadRequest(issue.path.length > 0 ? issue.path.join('.') : null, issue.message);
}

const frame = (entry: JournalEntry): string => `id: ${entry.seq}\nevent: ${entry.event.kind}\ndata: ${JSON.stringify(entry.event)}\n\n`;
const HEARTBEAT_MS = 15_000;

export function createPaperVenueServer({ config, log, clock = Date.now }: PaperVenueServerOptions) {
  const venue: PaperVenue = createPaperVenue({ config, clock, random: mulberry32(config.seed ^ 0x5bd1e995) });
  // Every request's socket is ours to end on stop: event streams and withheld answers never finish alone.
  // Per-request logs would drown a benchmark run through the venue; failures are still logged below.
  const app = Fastify({ loggerInstance: log, forceCloseConnections: true, logController: new LogController({ disableRequestLogging: true }) });
  const journal: JournalEntry[] = [];
  const streams = new Set<ServerResponse>();
  const heldReplies = new Set<ServerResponse>();
  let seq = 0;
  // Submits and look-ups by arrival (numbered before the latency knob sleeps), recorded once they reach the books.
  const ledger = createSubmitLedger();
  const arrivals = new WeakMap<object, number>();
  let arrival = 0;
  let ticker: NodeJS.Timeout | null = null;
  let heartbeat: NodeJS.Timeout | null = null;

  venue.onEvent((event) => {
    seq += 1;
    const entry = { seq, event };
    journal.push(entry);
    // Trim in batches: shifting a 100k array on every event would cost more than the event.
    if (journal.length > config.eventBufferSize + 1024) journal.splice(0, journal.length - config.eventBufferSize);
    for (const stream of streams) stream.write(frame(entry));
  });

  const endStreams = (): void => {
    for (const stream of streams) stream.end();
    streams.clear();
  };

  function withhold(reply: FastifyReply): FastifyReply {
    reply.hijack();
    const raw = reply.raw;
    heldReplies.add(raw);
    const limit = setTimeout(() => raw.destroy(), config.maxHoldMs);
    limit.unref();
    raw.on('close', () => {
      clearTimeout(limit);
      heldReplies.delete(raw);
    });
    return reply;
  }

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof BadRequest) return reply.code(400).send({ code: 'INVALID_REQUEST', message: error.message, field: error.field });
    // Fastify's own 4xx (bad JSON, body too large, wrong content type) carry a statusCode.
    const status = error instanceof Error && 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status < 500) return reply.code(status).send({ code: 'INVALID_REQUEST', message: error instanceof Error ? error.message : 'bad request', field: null });
    request.log.error({ err: error }, 'paper venue request failed');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error', field: null });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }));

  app.addHook('onRequest', async (request, reply) => {
    arrivals.set(request.raw, ++arrival);
    if (request.url.startsWith('/v1/admin') || request.url.startsWith('/v1/stats')) return;
    const knobs = venue.knobs();
    if (knobs.outage) return reply.code(503).send({ code: 'VENUE_OUTAGE', message: 'paper venue outage (knob)' });
    if (knobs.latencyMs > 0) await sleep(knobs.latencyMs);
  });

  app.post('/v1/orders', async (request, reply) => {
    const body = parse(orderBodySchema, request.body);
    ledger.record(body.clientOrderId, 'submit', arrivals.get(request.raw) ?? ++arrival);
    const { order, created } = venue.submit({
      clientOrderId: body.clientOrderId, symbol: body.symbol, side: body.side, quantity: body.quantity,
      orderType: body.type, limitPrice: body.limitPrice ?? null, timeInForce: body.timeInForce,
      stopPrice: body.stopPrice ?? null, trailAmount: body.trailAmount ?? null, trailPercent: body.trailPercent ?? null,
    });
    if (venue.knobs().dropResponses) return withhold(reply);
    return reply.code(created ? 201 : 200).send(order);
  });

  app.get<{ Params: { clientOrderId: string } }>('/v1/orders/:clientOrderId', async (request, reply) => {
    ledger.record(request.params.clientOrderId, 'lookup', arrivals.get(request.raw) ?? ++arrival);
    const order = venue.lookup(request.params.clientOrderId);
    if (!order) return reply.code(404).send({ code: 'ORDER_NOT_FOUND', message: `no order ${request.params.clientOrderId}` });
    return order;
  });

  app.delete<{ Params: { clientOrderId: string } }>('/v1/orders/:clientOrderId', async (request, reply) => {
    const order = venue.cancel(request.params.clientOrderId);
    if (!order) return reply.code(404).send({ code: 'ORDER_NOT_FOUND', message: `no order ${request.params.clientOrderId}` });
    if (venue.knobs().dropResponses) return withhold(reply);
    return order;
  });

  app.get('/v1/orders', async (request) => {
    const { status } = parse(ordersQuerySchema, request.query);
    return status === 'open' ? venue.openOrders() : venue.allOrders();
  });

  app.get('/v1/quotes', async (request) => {
    const { symbols } = parse(quotesQuerySchema, request.query);
    const wanted = symbols ? symbols.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : venue.symbols();
    return wanted.map((symbol) => {
      const quote = venue.quote(symbol);
      if (!quote) throw new BadRequest('symbols', `unknown symbol ${symbol}`);
      return quote;
    });
  });

  // The venue's rules per symbol (lot and tick grids it checks; an order is at least one lot), unknown symbols left out.
  app.get('/v1/instruments', async (request) => {
    const { symbols } = parse(quotesQuerySchema, request.query);
    const wanted = symbols ? new Set(symbols.split(',').map((s) => s.trim())) : null;
    return config.symbols.filter((i) => wanted === null || wanted.has(i.symbol))
      .map((i) => ({ symbol: i.symbol, trading: true, lotSize: i.lotSize, tickSize: i.tickSize, minQty: i.lotSize, maxQty: 0, minNotional: 0 }));
  });

  app.get('/v1/events', async (request, reply) => {
    const { since } = parse(eventsQuerySchema, request.query);
    const lastEventId = Number(request.headers['last-event-id']);
    const after = since ?? (Number.isInteger(lastEventId) ? lastEventId : null);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (after !== null && journal.length > 0) {
      for (let i = Math.max(0, after + 1 - journal[0].seq); i < journal.length; i += 1) raw.write(frame(journal[i]));
    }
    raw.write(`id: ${seq}\nevent: ready\ndata: {}\n\n`);
    streams.add(raw);
    raw.on('close', () => streams.delete(raw));
    return reply;
  });

  app.get('/v1/stats', async () => ({ ...venue.stats(), eventSeq: seq, submits: ledger.summary() }));
  app.get('/v1/health', async () => ({ status: 'ok', venue: 'paper', eventSeq: seq, time: clock() }));
  app.get('/v1/admin/knobs', async () => venue.knobs());

  app.put('/v1/admin/knobs', async (request) => {
    const patch = parse(knobsPatchSchema, request.body);
    const knobs = venue.setKnobs(patch);
    // An outage also drops live streams, so subscribers exercise their reconnect-with-since path.
    if (patch.outage === true) endStreams();
    request.log.info({ knobs }, 'paper venue knobs changed');
    return knobs;
  });

  app.post<{ Params: { tradeId: string } }>('/v1/admin/fills/:tradeId/correct', async (request, reply) => {
    const amendment = parse(amendmentSchema, request.body);
    const event = venue.correctFill(request.params.tradeId, amendment);
    if (!event) return reply.code(404).send({ code: 'FILL_NOT_FOUND', message: `no fill ${request.params.tradeId}` });
    return { event };
  });

  app.post<{ Params: { tradeId: string } }>('/v1/admin/fills/:tradeId/bust', async (request, reply) => {
    const event = venue.bustFill(request.params.tradeId);
    if (!event) return reply.code(404).send({ code: 'FILL_NOT_FOUND', message: `no fill ${request.params.tradeId}` });
    return { event };
  });

  /** Listens (port 0 = any free port) and starts the market-data timer; resolves to the base URL. */
  async function start(port: number, host = '127.0.0.1'): Promise<string> {
    await app.listen({ port, host });
    const bound = (app.server.address() as AddressInfo).port;
    if (config.tickMs > 0) {
      ticker = setInterval(() => {
        try {
          venue.tick();
        } catch (err) {
          log.error({ err }, 'paper venue tick failed');
        }
      }, config.tickMs);
    }
    heartbeat = setInterval(() => {
      for (const stream of streams) stream.write(': ping\n\n');
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const urlHost = host.includes(':') ? `[${host}]` : host;
    log.info({ port: bound, host, tickMs: config.tickMs }, 'paper venue listening');
    return `http://${urlHost}:${bound}`;
  }

  async function stop(): Promise<void> {
    if (ticker) clearInterval(ticker);
    if (heartbeat) clearInterval(heartbeat);
    ticker = heartbeat = null;
    endStreams();
    for (const raw of heldReplies) raw.destroy();
    heldReplies.clear();
    await app.close();
  }

  return { app, start, stop, venue };
}

export type PaperVenueServer = ReturnType<typeof createPaperVenueServer>;

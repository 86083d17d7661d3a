// One error type for the edge and one place that turns errors into HTTP answers, so a status code
// is decided once and a 5xx never carries internals (Kafka broker names, stack traces) to a caller.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

const STATUS = {
  INVALID_FIELD: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type EdgeErrorCode = keyof typeof STATUS;

export interface EdgeErrorBody {
  error: { code: EdgeErrorCode; field?: string; message?: string };
}

export class EdgeError extends Error {
  readonly code: EdgeErrorCode;
  readonly statusCode: number;
  readonly field: string | undefined;
  /** Whether the sender may retry the same request and expect a different answer. */
  readonly retriable: boolean;
  /** For our log only, never sent (e.g. why a signature failed: STALE, MISMATCH...). */
  readonly detail: string | undefined;

  constructor(code: EdgeErrorCode, message: string, field?: string, detail?: string) {
    super(message);
    this.detail = detail;
    this.name = 'EdgeError';
    this.code = code;
    this.statusCode = STATUS[code];
    this.field = field;
    this.retriable = code === 'UNAVAILABLE';
  }
}

export const invalidField = (field: string, message: string): EdgeError =>
  new EdgeError('INVALID_FIELD', message, field);

/** Any thrown value → the answer the caller sees. Pure, so the mapping is unit-testable. */
export function toHttpError(err: unknown): { status: number; body: EdgeErrorBody; internal: boolean } {
  if (err instanceof EdgeError) {
    if (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN' || err.code === 'UNAVAILABLE') {
      // The message is for our log; the caller learns only "secret" vs "signature" (set by auth).
      return { status: err.statusCode, body: { error: { code: err.code, message: err.message } }, internal: false };
    }
    const error: EdgeErrorBody['error'] = { code: err.code, message: err.message };
    if (err.field !== undefined) error.field = err.field;
    return { status: err.statusCode, body: { error }, internal: err.statusCode >= 500 };
  }
  const e = (err ?? {}) as Partial<FastifyError> & { code?: unknown };
  // `accept` (the Kafka side) signals "could not get acks" with this code; the sender should retry.
  if (e.code === 'UNAVAILABLE') {
    return { status: 503, body: { error: { code: 'UNAVAILABLE' } }, internal: true };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'body too large' } }, internal: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'use application/json or text/plain' } },
        internal: false,
      };
  }
  if (Array.isArray(e.validation)) {
    const first = e.validation[0] as { instancePath?: string; params?: { missingProperty?: string } } | undefined;
    const path = first?.params?.missingProperty ?? first?.instancePath?.replace(/^\//, '').replace(/\//g, '.');
    const field = path === undefined || path === '' ? 'body' : path;
    return { status: 400, body: { error: { code: 'INVALID_FIELD', field, message: 'invalid value' } }, internal: false };
  }
  // Fastify's own client errors (bad content-length, malformed URL...) keep their 4xx, in our shape.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 && typeof e.code === 'string' && e.code.startsWith('FST_')) {
    return { status: e.statusCode, body: { error: { code: 'BAD_REQUEST', message: 'bad request' } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } }, internal: true };
}

export function edgeErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, internal } = toHttpError(err);
  if (status === 503) request.log.warn({ err }, 'unavailable');
  else if (internal) request.log.error({ err }, 'request failed');
  else {
    const e = err as Partial<EdgeError>;
    request.log.info({ code: body.error.code, field: body.error.field, why: e.detail ?? e.message }, 'request refused');
  }
  if (status === 503) reply.header('retry-after', '1');
  return reply.code(status).send(body);
}

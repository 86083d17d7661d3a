// One base error: a stable code, whether retrying can help, and the context to find the record.
export interface ErrorContext {
  topic?: string; partition?: number; offset?: string; venue?: string; clientOrderId?: string; field?: string;
}

export class RouterError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly context: ErrorContext;
  constructor(code: string, message: string, opts: { retriable?: boolean; context?: ErrorContext; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'RouterError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.context = opts.context ?? {};
  }
}

export const isRetriable = (e: unknown): boolean =>
  e instanceof RouterError ? e.retriable : typeof e === 'object' && e !== null && (e as { retriable?: unknown }).retriable === true;

export const errorCode = (e: unknown): string =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'INTERNAL';

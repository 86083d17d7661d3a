import { pino, type Logger } from 'pino';

// Secrets can reach a log line only through these paths; redact them wherever they appear.
export const redactPaths = [
  'secret', '*.secret', 'secrets', '*.secrets', 'password', '*.password', 'token', '*.token',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers["x-signature"]',
  'headers.authorization', 'headers["x-signature"]', 'apiKey', '*.apiKey', 'apiSecret', '*.apiSecret',
];

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } }, destination as pino.DestinationStream | undefined);
}

export type { Logger };

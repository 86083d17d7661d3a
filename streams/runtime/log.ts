import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

// Secrets can reach a log line only through these paths; redact them wherever they appear.
export const redactPaths = [
  'secret', '*.secret', 'secrets', '*.secrets', 'password', '*.password', 'token', '*.token',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers["x-signature"]',
  'headers.authorization', 'headers["x-signature"]', 'apiKey', '*.apiKey', 'apiSecret', '*.apiSecret',
];

// Stdout, unless the process is a test file or the demo, whose reports own the terminal and whose
// components' logs go to a file instead (set before the first logger is made).
let defaultDestination: pino.DestinationStream | undefined;

export function setDefaultLogDestination(destination: pino.DestinationStream | undefined): void {
  defaultDestination = destination;
}

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } }, (destination as pino.DestinationStream | undefined) ?? defaultDestination);
}

export interface FileDestination extends pino.DestinationStream { path: string; written(): boolean; close(): void }

/**
 * Appends to `path`, created (with its folder) at the first line, so a run that logs nothing leaves
 * no file. Writes are synchronous: a process that exits or is killed has its last lines on disk.
 */
export function fileDestination(path: string): FileDestination {
  let fd: number | null = null;
  let wrote = false;
  return {
    path,
    write(line: string) {
      if (fd === null) {
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(path, 'a');
      }
      writeSync(fd, line);
      wrote = true;
    },
    written: () => wrote,
    close() { if (fd !== null) { closeSync(fd); fd = null; } },
  };
}

export type { Logger };

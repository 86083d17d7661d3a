// Process entry for the paper venue: `node connectors/paper/main.ts`.
// Env: PAPER_VENUE_PORT (7070), PAPER_VENUE_HOST (127.0.0.1), PAPER_VENUE_SEED (config default).
import { pino } from 'pino';
import { parsePaperConfig } from './config.ts';
import { createPaperVenueServer } from './server.ts';

const log = pino({ name: 'paper-venue' });

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  // NaN goes through to the schema, which then names the field.
  return value;
}

async function main(): Promise<void> {
  const seed = envNumber('PAPER_VENUE_SEED');
  const config = parsePaperConfig(seed === undefined ? {} : { seed });
  const port = envNumber('PAPER_VENUE_PORT') ?? 7070;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PAPER_VENUE_PORT must be a port number, got ${process.env.PAPER_VENUE_PORT}`);
  const host = process.env.PAPER_VENUE_HOST || '127.0.0.1';

  const server = createPaperVenueServer({ config, log });
  await server.start(port, host);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'paper venue stopping');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'paper venue did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  log.fatal({ err }, 'paper venue failed to start');
  process.exit(1);
});

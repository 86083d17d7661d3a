// HTTP + Kafka shell around the registry store: the Confluent REST subset that
// @kafkajs/confluent-schema-registry and Confluent serializers use, persisted in a compacted topic.
// This file owns the lifecycle and the single writer; routes.ts holds the routes, schemasLog.ts the topic.
import Fastify, { LogController, type FastifyReply } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { CONTENT_TYPE, HttpError, type RegistryApp } from './http.ts';
import type { RegistryError, RegistryEvent } from './model.ts';
import { registerSettingsRoutes, registerSubjectRoutes, type Write } from './routes.ts';
import { createSchemasLog } from './schemasLog.ts';
import { createRegistryStore } from './store.ts';

export { fromRecord, toRecord } from './records.ts';

export interface RegistryServerOptions {
  readonly kafka: Kafka;
  readonly topic?: string;
  readonly log: Logger;
}

export interface RegistryServer {
  readonly app: RegistryApp;
  /** Rebuilds state from the topic, then listens; resolves to the base URL. */
  start(port: number, host: string): Promise<string>;
  stop(): Promise<void>;
}

/** What a written record says, for the log: everything but the schema text. */
function describe(event: RegistryEvent): Record<string, unknown> {
  const { schema: _schema, ...fields } = event as RegistryEvent & { schema?: string };
  return fields;
}

export function createRegistryServer({ kafka, topic = '_schemas', log }: RegistryServerOptions): RegistryServer {
  const store = createRegistryStore();
  const schemasLog = createSchemasLog({ kafka, topic, log });
  // Single writer: decisions read the state that the previous write left, so writes run one at a time.
  let writeChain: Promise<unknown> = Promise.resolve();

  const write: Write = (decide) => {
    const work = async () => {
      const { events, answer } = decide();
      await schemasLog.append(events);
      for (const event of events) {
        store.apply(event);
        log.info({ topic, ...describe(event) }, 'schemas record written');
      }
      return answer;
    };
    const next = writeChain.then(work, work);
    writeChain = next.catch(() => undefined);
    return next;
  };

  // Clients poll lookups on every cache miss; per-request logs would drown the writes, which log themselves.
  const app: RegistryApp = Fastify({ loggerInstance: log, logController: new LogController({ disableRequestLogging: true }) });
  app.addContentTypeParser(
    ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json'],
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'ignore'),
  );
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.includes('json')) reply.header('content-type', CONTENT_TYPE);
    return payload;
  });

  const sendError = (reply: FastifyReply, e: RegistryError) => reply.code(e.status).send({ error_code: e.errorCode, message: e.message });
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof HttpError) return sendError(reply, err.registryError);
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation !== undefined) return sendError(reply, { status: 422, errorCode: 422, message: e.message });
    if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
      return sendError(reply, { status: e.statusCode, errorCode: e.statusCode, message: e.message });
    }
    request.log.error({ err }, 'schema registry request failed');
    return sendError(reply, { status: 500, errorCode: 50001, message: 'Error in the backend datastore' });
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, { status: 404, errorCode: 404, message: `HTTP 404 Not Found: ${request.method} ${request.url}` }),
  );

  registerSubjectRoutes(app, store, write);
  registerSettingsRoutes(app, store, write);

  return {
    app,
    async start(port, host) {
      const applied = await schemasLog.open(store.apply);
      log.info({ topic, records: applied, subjects: store.subjects().length }, 'schema registry state rebuilt');
      const address = await app.listen({ port, host });
      log.info({ address, topic }, 'schema registry listening');
      return address;
    },
    async stop() {
      await app.close();
      await writeChain;
      await schemasLog.close();
    },
  };
}

// HTTP + Kafka shell around the registry store: the Confluent REST subset that
// @kafkajs/confluent-schema-registry and Confluent serializers use, persisted in a compacted topic.
import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { Partitioners, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createRegistryStore, isCompatibilityLevel, type RegistryError, type RegistryEvent, type Result } from './store.ts';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const REPLAY_TIMEOUT_MS = 60_000;

export interface RegistryServerOptions {
  readonly kafka: Kafka;
  readonly topic?: string;
  readonly log: Logger;
}

export type RegistryApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>;

export interface RegistryServer {
  readonly app: RegistryApp;
  /** Rebuilds state from the topic, then listens; resolves to the base URL. */
  start(port: number, host: string): Promise<string>;
  stop(): Promise<void>;
}

/** Key and value as Confluent writes them, so a real registry could read our topic and vice versa. */
export function toRecord(event: RegistryEvent): { key: string; value: string } {
  switch (event.type) {
    case 'SchemaRegistered':
      return {
        key: JSON.stringify({ keytype: 'SCHEMA', subject: event.subject, version: event.version, magic: 1 }),
        value: JSON.stringify({ subject: event.subject, version: event.version, id: event.id, schema: event.schema, deleted: false }),
      };
    case 'ConfigChanged':
      return {
        key: JSON.stringify({ keytype: 'CONFIG', subject: event.subject, magic: 0 }),
        value: JSON.stringify({ compatibilityLevel: event.compatibility }),
      };
    default: {
      const unreachable: never = event;
      throw new Error(`unknown registry event ${JSON.stringify(unreachable)}`);
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Null for records we do not model (NOOP, deletes, tombstones, non-Avro schemas). */
export function fromRecord(key: string, value: string | null): RegistryEvent | null {
  if (value === null) return null;
  const k: unknown = JSON.parse(key);
  const v: unknown = JSON.parse(value);
  if (!isRecord(k) || !isRecord(v)) return null;
  if (k.keytype === 'SCHEMA') {
    const { subject, version, id, schema, deleted, schemaType } = v;
    if (deleted === true || (schemaType !== undefined && schemaType !== 'AVRO')) return null;
    if (typeof subject !== 'string' || typeof version !== 'number' || typeof id !== 'number' || typeof schema !== 'string') return null;
    return { type: 'SchemaRegistered', subject, version, id, schema };
  }
  if (k.keytype === 'CONFIG') {
    const level = v.compatibilityLevel;
    const subject = typeof k.subject === 'string' ? k.subject : null;
    if (typeof level !== 'string' || !isCompatibilityLevel(level)) return null;
    return { type: 'ConfigChanged', subject, compatibility: level };
  }
  return null;
}

const schemaBody = {
  type: 'object',
  required: ['schema'],
  properties: { schema: { type: 'string' }, schemaType: { type: 'string' }, references: { type: 'array' } },
} as const;
const configBody = { type: 'object', required: ['compatibility'], properties: { compatibility: { type: 'string' } } } as const;
const subjectParams = { type: 'object', properties: { subject: { type: 'string' } } } as const;
const versionParams = { type: 'object', properties: { subject: { type: 'string' }, version: { type: 'string' } } } as const;
const versionResponse = {
  type: 'object',
  properties: { subject: { type: 'string' }, id: { type: 'integer' }, version: { type: 'integer' }, schema: { type: 'string' } },
} as const;

interface SchemaBody {
  schema: string;
  schemaType?: string;
  references?: unknown[];
}

class HttpError extends Error {
  constructor(readonly registryError: RegistryError) {
    super(registryError.message);
  }
}

/** Only Avro without references is supported; Confluent answers 42201 for a schema it cannot parse. */
function assertAvro(body: SchemaBody): void {
  if (body.schemaType !== undefined && body.schemaType.toUpperCase() !== 'AVRO') {
    throw new HttpError({ status: 422, errorCode: 42201, message: `Invalid schema type ${body.schemaType}: only AVRO is supported` });
  }
  if (body.references !== undefined && body.references.length > 0) {
    throw new HttpError({ status: 422, errorCode: 42201, message: 'Schema references are not supported' });
  }
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new HttpError(result.error);
  return result.value;
}

export function createRegistryServer({ kafka, topic = '_schemas', log }: RegistryServerOptions): RegistryServer {
  const store = createRegistryStore();
  const admin = kafka.admin();
  let producer: Producer | null = null;
  // Single writer: decisions read the state that the previous write left, so writes run one at a time.
  let writeChain: Promise<unknown> = Promise.resolve();

  // Clients poll lookups on every cache miss; per-request logs would drown the writes, which log themselves.
  const app = Fastify({ loggerInstance: log, logController: new LogController({ disableRequestLogging: true }) });
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

  /** Persists the event (acks=all) before it becomes visible; nothing is answered from an unwritten change. */
  async function persist(event: RegistryEvent): Promise<void> {
    if (producer === null) throw new Error('registry is not started');
    const { key, value } = toRecord(event);
    await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    store.apply(event);
  }

  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = writeChain.then(work, work);
    writeChain = next.catch(() => undefined);
    return next;
  }

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['AVRO']);
  app.get('/subjects', async () => store.subjects());
  app.get<{ Params: { subject: string } }>('/subjects/:subject/versions', { schema: { params: subjectParams } }, async (req) =>
    unwrap(store.versions(req.params.subject)),
  );
  app.get<{ Params: { subject: string; version: string } }>(
    '/subjects/:subject/versions/:version',
    { schema: { params: versionParams, response: { 200: versionResponse } } },
    async (req) => unwrap(store.getVersion(req.params.subject, req.params.version)),
  );
  app.get<{ Params: { subject: string; version: string } }>('/subjects/:subject/versions/:version/schema', { schema: { params: versionParams } }, async (req, reply) =>
    reply.type(CONTENT_TYPE).send(unwrap(store.getVersion(req.params.subject, req.params.version)).schema),
  );
  app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (req) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id)) throw new HttpError({ status: 404, errorCode: 40403, message: `Schema ${req.params.id} not found` });
    return { schema: unwrap(store.schemaById(id)) };
  });

  app.post<{ Params: { subject: string }; Body: SchemaBody }>(
    '/subjects/:subject/versions',
    { schema: { params: subjectParams, body: schemaBody, response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } } } },
    async (req) => {
      assertAvro(req.body);
      return serialized(async () => {
        const decision = unwrap(store.decideRegister(req.params.subject, req.body.schema));
        if (decision.kind === 'existing') return { id: decision.version.id };
        await persist(decision.event);
        req.log.info({ subject: decision.event.subject, version: decision.event.version, id: decision.event.id }, 'schema registered');
        return { id: decision.event.id };
      });
    },
  );
  app.post<{ Params: { subject: string }; Body: SchemaBody }>(
    '/subjects/:subject',
    { schema: { params: subjectParams, body: schemaBody, response: { 200: versionResponse } } },
    async (req) => {
      assertAvro(req.body);
      return unwrap(store.lookup(req.params.subject, req.body.schema));
    },
  );
  app.post<{ Params: { subject: string; version: string }; Body: SchemaBody }>(
    '/compatibility/subjects/:subject/versions/:version',
    { schema: { params: versionParams, body: schemaBody } },
    async (req) => {
      assertAvro(req.body);
      const report = unwrap(store.checkCompatibility(req.params.subject, req.params.version, req.body.schema));
      return report.isCompatible ? { is_compatible: true } : { is_compatible: false, messages: report.messages };
    },
  );

  const getConfig = (subject: string | null, defaultToGlobal: boolean) => ({
    compatibilityLevel: unwrap(store.getConfig(subject, defaultToGlobal)),
  });
  const putConfig = (subject: string | null, level: string) =>
    serialized(async () => {
      const event = unwrap(store.decideConfig(subject, level));
      await persist(event);
      return { compatibility: event.compatibility };
    });
  app.get('/config', async () => getConfig(null, true));
  app.put<{ Body: { compatibility: string } }>('/config', { schema: { body: configBody } }, async (req) => putConfig(null, req.body.compatibility));
  app.get<{ Params: { subject: string }; Querystring: { defaultToGlobal?: string } }>('/config/:subject', async (req) =>
    getConfig(req.params.subject, req.query.defaultToGlobal === 'true'),
  );
  app.put<{ Params: { subject: string }; Body: { compatibility: string } }>('/config/:subject', { schema: { body: configBody } }, async (req) =>
    putConfig(req.params.subject, req.body.compatibility),
  );

  async function ensureTopic(): Promise<void> {
    // Checked first because kafkajs logs TOPIC_ALREADY_EXISTS at error level on every restart.
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    log.info({ topic }, 'created schemas topic');
  }

  function applyRecord(message: KafkaMessage): boolean {
    try {
      const event = fromRecord(message.key?.toString() ?? 'null', message.value?.toString() ?? null);
      if (event !== null) store.apply(event);
      return event !== null;
    } catch (err) {
      log.warn({ err, topic, offset: message.offset }, 'skipping unreadable schemas record');
      return false;
    }
  }

  /** Reads the topic from the beginning up to the high watermark seen at start. */
  async function replay(): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic);
    const pending = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
    if (pending.size === 0) return 0;
    const groupId = `schema-registry-replay-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    let applied = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`replay of ${topic} did not reach its high watermark in ${REPLAY_TIMEOUT_MS} ms`)), REPLAY_TIMEOUT_MS);
        const eachBatch = async ({ batch }: EachBatchPayload): Promise<void> => {
          const high = pending.get(batch.partition);
          if (high === undefined) return;
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= high) break;
            if (applyRecord(message)) applied += 1;
          }
          // lastOffset() also covers batches that compaction emptied.
          if (BigInt(batch.lastOffset()) + 1n >= high) pending.delete(batch.partition);
          if (pending.size === 0) resolve();
        };
        consumer.run({ autoCommit: false, eachBatch }).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return applied;
  }

  return {
    app,
    async start(port, host) {
      await admin.connect();
      await ensureTopic();
      const applied = await replay();
      log.info({ topic, records: applied, subjects: store.subjects().length }, 'schema registry state rebuilt');
      producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const address = await app.listen({ port, host });
      log.info({ address, topic }, 'schema registry listening');
      return address;
    },
    async stop() {
      await app.close();
      await writeChain;
      await producer?.disconnect();
      producer = null;
      await admin.disconnect();
    },
  };
}

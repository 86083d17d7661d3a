// The project's schema registry on the shared broker, each test file on its own `_schemas` topic.
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { fixKafkajsRequestQueue } from '../../schemas/kafkaRequestQueue.ts';
import { createRegistryServer, type RegistryServer } from '../../schemas/registry/server.ts';

// Node's CJS export detection misses kafkajs' enums, so take them off the default export.
const { Kafka, logLevel } = kafkajs;

fixKafkajsRequestQueue(); // as the registry process does (schemas/registry/main.ts)
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
export const registryKafka = new Kafka({ clientId: 'registry-test', brokers, logLevel: logLevel.NOTHING });

export const randomSchemasTopic = (): string => `_schemas-test-${randomBytes(4).toString('hex')}`;

/** A registry server folded from `topic`, listening on a free port. */
export async function startRegistry(topic: string): Promise<{ server: RegistryServer; url: string }> {
  const server = createRegistryServer({ kafka: registryKafka, topic, log: pino({ level: 'silent' }) });
  const url = await server.start(0, '127.0.0.1');
  return { server, url };
}

export async function dropTopic(topic: string): Promise<void> {
  const admin = registryKafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}

export interface RegistryResponse {
  readonly status: number;
  readonly type: string | null;
  readonly body: Record<string, unknown>;
}

/** One REST call as a Confluent client makes it; every answer of the registry is JSON. */
export async function registryHttp(url: string, method: string, body?: unknown, contentType = 'application/vnd.schemaregistry.v1+json'): Promise<RegistryResponse> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
}

// Against the real broker: the registry server, driven by the client the pipeline uses.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import kafkajs from 'kafkajs';
import type { RegistryServer } from '../../schemas/registry/server.ts';
import { dropTopic, randomSchemasTopic, registryHttp as http, registryKafka as kafka, startRegistry } from '../helpers/registry.ts';

// Node's CJS export detection misses kafkajs' enums, so take them off the default export.
const { ConfigResourceTypes } = kafkajs;

const topic = randomSchemasTopic();
const subject = `orders-${randomBytes(3).toString('hex')}-value`;

const orderV1 = {
  type: 'record',
  name: 'Order',
  namespace: 'test',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'qty', type: 'int' },
  ],
};
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'venue', type: 'string', default: 'paper' }] };
const orderBroken = { ...orderV1, fields: [...orderV1.fields, { name: 'account', type: 'string' }] };
const avro = (schema: object) => ({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }) as const;

const startServer = () => startRegistry(topic);

describe('schema registry server against Kafka', () => {
  const running: RegistryServer[] = [];
  let first: { url: string; v1: number; v2: number; encoded: Buffer };

  before(async () => {
    const { server, url } = await startServer();
    running.push(server);
    first = { url, v1: 0, v2: 0, encoded: Buffer.alloc(0) };
  });

  after(async () => {
    for (const server of running) await server.stop().catch(() => undefined);
    await dropTopic(topic);
  });

  it('registers a schema and round-trips a record in the Confluent wire format', async () => {
    const registry = new SchemaRegistry({ host: first.url });
    const { id } = await registry.register(avro(orderV1), { subject });
    assert.ok(id >= 1);
    first.v1 = id;

    const encoded = await registry.encode(id, { orderId: 'o-1', qty: 10 });
    assert.equal(encoded[0], 0, 'magic byte');
    assert.equal(encoded.readInt32BE(1), id, 'schema id after the magic byte');
    assert.deepEqual({ ...(await registry.decode(encoded)) }, { orderId: 'o-1', qty: 10 });
    first.encoded = encoded;

    assert.equal((await registry.register(avro(orderV1), { subject })).id, id, 'registering again is idempotent');
    assert.equal(await registry.getRegistryIdBySchema(subject, avro(orderV1)), id);
  });

  it('accepts a backward-compatible change and refuses an incompatible one with 409', async () => {
    const registry = new SchemaRegistry({ host: first.url });
    const { id } = await registry.register(avro(orderV2), { subject });
    assert.notEqual(id, first.v1);
    first.v2 = id;
    assert.equal(await registry.getLatestSchemaId(subject), id);

    await assert.rejects(registry.register(avro(orderBroken), { subject }), (err: unknown) => {
      const e = err as { status?: number; message?: string };
      assert.equal(e.status, 409);
      assert.match(e.message ?? '', /incompatible with an earlier schema/);
      assert.match(e.message ?? '', /default-less test\.Order\.account/);
      return true;
    });
    assert.equal(await registry.getLatestSchemaId(subject), first.v2, 'the refused schema did not become a version');
  });

  it('answers the REST subset with Confluent status codes and bodies', async () => {
    const { url } = first;
    const versions = await http(`${url}/subjects/${subject}/versions`, 'GET');
    assert.deepEqual({ status: versions.status, body: versions.body }, { status: 200, body: [1, 2] });
    assert.equal(versions.type, 'application/vnd.schemaregistry.v1+json');

    const v1 = await http(`${url}/subjects/${subject}/versions/1`, 'GET');
    assert.deepEqual(v1.body, { subject, id: first.v1, version: 1, schema: JSON.stringify(orderV1) });
    assert.deepEqual((await http(`${url}/schemas/ids/${first.v2}`, 'GET')).body, { schema: JSON.stringify(orderV2) });

    const lookup = await http(`${url}/subjects/${subject}`, 'POST', { schema: JSON.stringify(orderV2) }, 'application/json');
    assert.deepEqual(lookup.body, { subject, id: first.v2, version: 2, schema: JSON.stringify(orderV2) });

    const compatible = await http(`${url}/compatibility/subjects/${subject}/versions/latest`, 'POST', { schema: JSON.stringify(orderBroken) });
    assert.equal(compatible.body.is_compatible, false);
    assert.ok(Array.isArray(compatible.body.messages));

    const expectError = async (path: string, method: string, status: number, code: number, body?: unknown) => {
      const res = await http(`${url}${path}`, method, body);
      assert.equal(res.status, status, path);
      assert.equal(res.body.error_code, code, path);
      assert.equal(typeof res.body.message, 'string');
    };
    await expectError('/subjects/nope/versions', 'GET', 404, 40401);
    await expectError(`/subjects/${subject}/versions/9`, 'GET', 404, 40402);
    await expectError('/schemas/ids/999999', 'GET', 404, 40403);
    await expectError(`/subjects/${subject}`, 'POST', 404, 40403, { schema: JSON.stringify(orderBroken) });
    await expectError(`/subjects/${subject}/versions`, 'POST', 422, 42201, { schema: '{"type":"record"}' });
    await expectError(`/subjects/${subject}/versions`, 'POST', 422, 42201, { schema: '{}', schemaType: 'PROTOBUF' });
    await expectError('/config/never-configured', 'GET', 404, 40408);
    await expectError('/no/such/route', 'GET', 404, 404);

    assert.deepEqual((await http(`${url}/config/never-configured?defaultToGlobal=true`, 'GET')).body, { compatibilityLevel: 'BACKWARD' });
    // The client sets the subject's level after its first registration.
    assert.deepEqual((await http(`${url}/config/${subject}`, 'GET')).body, { compatibilityLevel: 'BACKWARD' });
    assert.deepEqual((await http(`${url}/config/${subject}`, 'PUT', { compatibility: 'FULL' }, 'application/vnd.schemaregistry+json')).body, {
      compatibility: 'FULL',
    });
  });

  it('serializes concurrent registrations into distinct versions and ids', async () => {
    const concurrent = `${subject}-concurrent`;
    await http(`${first.url}/config/${concurrent}`, 'PUT', { compatibility: 'NONE' });
    const schemas = [1, 2, 3, 4, 5].map((n) => JSON.stringify({ type: 'record', name: `Concurrent${n}`, fields: [{ name: 'n', type: 'int' }] }));
    const ids = await Promise.all(schemas.map(async (schema) => (await http(`${first.url}/subjects/${concurrent}/versions`, 'POST', { schema })).body.id));
    assert.equal(new Set(ids).size, 5);
    assert.deepEqual((await http(`${first.url}/subjects/${concurrent}/versions`, 'GET')).body, [1, 2, 3, 4, 5]);
  });

  it('keeps its state in a compacted topic', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      });
      assert.equal(resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue, 'compact');
    } finally {
      await admin.disconnect();
    }
  });

  it('rebuilds the same schemas, ids and config from the topic after a restart', async () => {
    await running.pop()?.stop();
    const { server, url } = await startServer();
    running.push(server);

    const registry = new SchemaRegistry({ host: url }); // fresh client: nothing cached
    assert.equal(await registry.getLatestSchemaId(subject), first.v2);
    assert.equal(await registry.getRegistryIdBySchema(subject, avro(orderV1)), first.v1);
    assert.deepEqual({ ...(await registry.decode(first.encoded)) }, { orderId: 'o-1', qty: 10 });
    assert.deepEqual((await http(`${url}/config/${subject}`, 'GET')).body, { compatibilityLevel: 'FULL' });

    const other = await registry.register(avro({ ...orderV1, name: 'Other' }), { subject: `${subject}-other` });
    assert.ok(other.id > first.v2, 'new ids continue after the replayed ones');
  });
});

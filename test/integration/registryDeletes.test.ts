// Against the real broker: deleting subjects and versions, modes, and a restart folding them back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { RegistryServer } from '../../schemas/registry/server.ts';
import { readToEnd } from '../../streams/runtime/consume.ts';
import { dropTopic, randomSchemasTopic, registryHttp as http, registryKafka, startRegistry } from '../helpers/registry.ts';

const topic = randomSchemasTopic();
const tag = randomBytes(3).toString('hex');
const soft = `soft-${tag}-value`; // soft-deleted, then registered again
const hard = `hard-${tag}-value`; // soft-deleted, then deleted permanently
const versioned = `versioned-${tag}-value`; // versions deleted one by one
const gone = `gone-${tag}-value`; // soft-deleted and left so

const record = (name: string, fields: { name: string; type: string; default?: unknown }[]) => ({ type: 'record', name, namespace: 'test', fields });
const orderV1 = record('Order', [{ name: 'orderId', type: 'string' }, { name: 'qty', type: 'int' }]);
const orderV2 = record('Order', [...orderV1.fields, { name: 'venue', type: 'string', default: 'paper' }]);
const avro = (schema: object) => ({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }) as const;
const register = (url: string, subject: string, schema: object) => http(`${url}/subjects/${subject}/versions`, 'POST', { schema: JSON.stringify(schema) });

async function expectError(url: string, method: string, path: string, status: number, code: number, body?: unknown): Promise<void> {
  const res = await http(`${url}${path}`, method, body);
  assert.equal(res.status, status, `${method} ${path}`);
  assert.equal(res.body.error_code, code, `${method} ${path}`);
  assert.equal(typeof res.body.message, 'string');
}

describe('schema registry deletes and modes against Kafka', () => {
  let current: { server: RegistryServer; url: string };
  const ids = { v1: 0, v2: 0, hard: 0, gone: 0 };
  let encoded: Buffer = Buffer.alloc(0);

  before(async () => {
    current = await startRegistry(topic);
  });

  after(async () => {
    await current.server.stop().catch(() => undefined);
    await dropTopic(topic);
  });

  it('soft-deletes a subject: gone from lookups, its ids still resolve, and the stock client still decodes and registers', async () => {
    const { url } = current;
    const client = new SchemaRegistry({ host: url });
    ids.v1 = (await client.register(avro(orderV1), { subject: soft })).id;
    ids.v2 = (await client.register(avro(orderV2), { subject: soft })).id;
    encoded = await client.encode(ids.v1, { orderId: 'o-1', qty: 3 });

    const deleted = await http(`${url}/subjects/${soft}`, 'DELETE');
    assert.deepEqual({ status: deleted.status, body: deleted.body }, { status: 200, body: [1, 2] });
    assert.equal(deleted.type, 'application/vnd.schemaregistry.v1+json');

    assert.ok(!((await http(`${url}/subjects`, 'GET')).body as unknown as string[]).includes(soft));
    assert.ok(((await http(`${url}/subjects?deleted=true`, 'GET')).body as unknown as string[]).includes(soft));
    await expectError(url, 'GET', `/subjects/${soft}/versions`, 404, 40401);
    await expectError(url, 'GET', `/subjects/${soft}/versions/latest`, 404, 40401);
    await expectError(url, 'POST', `/subjects/${soft}`, 404, 40401, { schema: JSON.stringify(orderV1) });
    await expectError(url, 'DELETE', `/subjects/${soft}`, 404, 40404);
    assert.deepEqual((await http(`${url}/subjects/${soft}/versions?deleted=true`, 'GET')).body, [1, 2]);
    assert.equal((await http(`${url}/subjects/${soft}/versions/1?deleted=true`, 'GET')).body.id, ids.v1);

    assert.deepEqual((await http(`${url}/schemas/ids/${ids.v1}`, 'GET')).body, { schema: JSON.stringify(orderV1) });
    assert.deepEqual((await http(`${url}/schemas/ids/${ids.v1}/versions`, 'GET')).body, []);
    assert.deepEqual((await http(`${url}/schemas/ids/${ids.v1}/versions?deleted=true`, 'GET')).body, [{ subject: soft, version: 1 }]);

    const fresh = new SchemaRegistry({ host: url }); // nothing cached: the id is resolved by the registry
    assert.deepEqual({ ...(await fresh.decode(encoded)) }, { orderId: 'o-1', qty: 3 });
    assert.equal((await fresh.register(avro(orderV1), { subject: soft })).id, ids.v1, 'the same schema keeps its id');
    assert.deepEqual((await http(`${url}/subjects/${soft}/versions`, 'GET')).body, [3], 'soft-deleted version numbers are not reused');
    assert.deepEqual((await http(`${url}/schemas/ids/${ids.v1}/versions?deleted=true`, 'GET')).body, [
      { subject: soft, version: 1 },
      { subject: soft, version: 3 },
    ]);
  });

  it('deletes permanently only what was soft-deleted first (40405), and then the id stops resolving', async () => {
    const { url } = current;
    ids.hard = (await register(url, hard, record('Hard', [{ name: 'n', type: 'int' }]))).body.id as number;
    await expectError(url, 'DELETE', `/subjects/${hard}?permanent=true`, 404, 40405);
    assert.deepEqual((await http(`${url}/subjects/${hard}`, 'DELETE')).body, [1]);
    assert.deepEqual((await http(`${url}/subjects/${hard}?permanent=true`, 'DELETE')).body, [1]);
    assert.ok(!((await http(`${url}/subjects?deleted=true`, 'GET')).body as unknown as string[]).includes(hard));
    await expectError(url, 'GET', `/schemas/ids/${ids.hard}`, 404, 40403);
    await expectError(url, 'GET', `/schemas/ids/${ids.hard}/versions`, 404, 40403);
    await expectError(url, 'DELETE', `/subjects/${hard}`, 404, 40401);

    ids.gone = (await register(url, gone, record('Gone', [{ name: 'n', type: 'int' }]))).body.id as number;
    assert.deepEqual((await http(`${url}/subjects/${gone}`, 'DELETE')).body, [1]);
  });

  it('deletes versions, `latest` included, with 40406, 40407 and 40402 where Confluent answers them', async () => {
    const { url } = current;
    await register(url, versioned, orderV1);
    await register(url, versioned, orderV2);
    const raw = await http(`${url}/subjects/${versioned}/versions/1/schema`, 'GET');
    assert.deepEqual({ status: raw.status, body: raw.body }, { status: 200, body: orderV1 }, 'the schema itself, unwrapped');

    await expectError(url, 'DELETE', `/subjects/${versioned}/versions/1?permanent=true`, 404, 40407);
    assert.deepEqual((await http(`${url}/subjects/${versioned}/versions/latest`, 'DELETE')).body, 2);
    await expectError(url, 'DELETE', `/subjects/${versioned}/versions/2`, 404, 40406);
    await expectError(url, 'DELETE', `/subjects/${versioned}/versions/9`, 404, 40402);
    await expectError(url, 'DELETE', `/subjects/${versioned}/versions/nine`, 422, 42202);
    assert.equal((await http(`${url}/subjects/${versioned}/versions/latest`, 'GET')).body.version, 1);
    assert.deepEqual((await http(`${url}/subjects/${versioned}/versions/2?permanent=true`, 'DELETE')).body, 2);
    assert.deepEqual((await http(`${url}/subjects/${versioned}/versions?deleted=true`, 'GET')).body, [1]);
    await expectError(url, 'GET', `/subjects/${versioned}/versions/2/schema?deleted=true`, 404, 40402);
  });

  it('records soft deletes as SCHEMA records with deleted: true and permanent ones as tombstones', async () => {
    const seen: { key: Record<string, unknown>; value: Record<string, unknown> | null }[] = [];
    await readToEnd(registryKafka, [topic], (_t, m) => {
      seen.push({ key: JSON.parse(m.key?.toString() ?? 'null'), value: m.value === null ? null : JSON.parse(m.value.toString()) });
    });
    const forKey = (subject: string, version: number) => seen.filter((r) => r.key.keytype === 'SCHEMA' && r.key.subject === subject && r.key.version === version);
    assert.deepEqual(forKey(soft, 1).map((r) => r.value?.deleted), [false, true]);
    assert.deepEqual(forKey(hard, 1).map((r) => r.value?.deleted ?? 'tombstone'), [false, true, 'tombstone']);
    assert.deepEqual(forKey(versioned, 2).map((r) => r.value?.deleted ?? 'tombstone'), [false, true, 'tombstone']);
  });

  it('in READONLY mode refuses registrations and deletes with 42205, the stock client included', async () => {
    const { url } = current;
    assert.deepEqual((await http(`${url}/mode`, 'GET')).body, { mode: 'READWRITE' });
    assert.deepEqual((await http(`${url}/mode`, 'PUT', { mode: 'READONLY' })).body, { mode: 'READONLY' });
    assert.deepEqual((await http(`${url}/mode`, 'GET')).body, { mode: 'READONLY' });

    await expectError(url, 'POST', `/subjects/${soft}/versions`, 422, 42205, { schema: JSON.stringify(orderV2) });
    await expectError(url, 'DELETE', `/subjects/${soft}`, 422, 42205);
    await expectError(url, 'DELETE', `/subjects/${soft}/versions/3`, 422, 42205);
    await expectError(url, 'PUT', `/config/${soft}`, 422, 42205, { compatibility: 'NONE' });
    await expectError(url, 'PUT', '/mode', 422, 42204, { mode: 'SIDEWAYS' });
    await expectError(url, 'PUT', '/mode', 422, 42205, { mode: 'IMPORT' }); // live subjects exist
    await expectError(url, 'GET', `/mode/${soft}`, 404, 40409);
    assert.deepEqual((await http(`${url}/mode/${soft}?defaultToGlobal=true`, 'GET')).body, { mode: 'READONLY' });

    const client = new SchemaRegistry({ host: url });
    await assert.rejects(client.register(avro(orderV2), { subject: soft }), (err: unknown) => {
      assert.equal((err as { status?: number }).status, 422);
      assert.match((err as Error).message, /read-only/);
      return true;
    });
    assert.equal(await client.getLatestSchemaId(soft), ids.v1, 'reads still answer');
  });

  it('after a restart, folds the same deletions and mode back from the topic', async () => {
    await current.server.stop();
    current = await startRegistry(topic);
    const { url } = current;

    assert.deepEqual((await http(`${url}/mode`, 'GET')).body, { mode: 'READONLY' });
    const live = (await http(`${url}/subjects`, 'GET')).body as unknown as string[];
    assert.deepEqual([soft, hard, versioned, gone].filter((s) => live.includes(s)), [soft, versioned]);
    assert.deepEqual((await http(`${url}/subjects?deletedOnly=true`, 'GET')).body, [gone]);
    assert.deepEqual((await http(`${url}/subjects/${soft}/versions`, 'GET')).body, [3]);
    assert.deepEqual((await http(`${url}/subjects/${soft}/versions?deleted=true`, 'GET')).body, [1, 2, 3]);
    assert.deepEqual((await http(`${url}/subjects/${versioned}/versions?deleted=true`, 'GET')).body, [1]);
    assert.deepEqual((await http(`${url}/schemas/ids/${ids.gone}/versions?deleted=true`, 'GET')).body, [{ subject: gone, version: 1 }]);
    assert.deepEqual((await http(`${url}/schemas/ids/${ids.v2}`, 'GET')).body, { schema: JSON.stringify(orderV2) });
    await expectError(url, 'GET', `/schemas/ids/${ids.hard}`, 404, 40403);
    await expectError(url, 'DELETE', `/subjects/${gone}`, 404, 40404);

    assert.deepEqual((await http(`${url}/mode`, 'PUT', { mode: 'READWRITE' })).body, { mode: 'READWRITE' });
    const client = new SchemaRegistry({ host: url });
    assert.deepEqual({ ...(await client.decode(encoded)) }, { orderId: 'o-1', qty: 3 });
    const next = await client.register(avro(record('After', [{ name: 'n', type: 'int' }])), { subject: `after-${tag}-value` });
    assert.ok(next.id > Math.max(ids.v1, ids.v2, ids.gone), 'new ids continue after the folded ones');
    assert.equal((await client.register(avro(orderV2), { subject: soft })).id, ids.v2, 'BACKWARD against live version 3 only');
    assert.deepEqual((await http(`${url}/subjects/${soft}/versions`, 'GET')).body, [3, 4]);
  });
});

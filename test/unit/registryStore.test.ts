import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistryStore, type CompatibilityLevel, type RegistryStore, type SchemaVersion } from '../../schemas/registry/store.ts';

type Field = { name: string; type: unknown; default?: unknown };
const order = (fields: Field[]): string => JSON.stringify({ type: 'record', name: 'Order', namespace: 'test', fields });
const V1 = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]);
const withDefault = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'venue', type: 'string', default: 'paper' }]);
const withoutDefault = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'venue', type: 'string' }]);
const qtyAsString = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'string' }]);
const withoutQty = order([{ name: 'id', type: 'string' }]);

/** Registers through decide + apply, as the server does after the event is durable. */
function register(store: RegistryStore, subject: string, schema: string): SchemaVersion {
  const decision = store.decideRegister(subject, schema);
  if (!decision.ok) throw new Error(`refused: ${decision.error.message}`);
  if (decision.value.kind === 'existing') return decision.value.version;
  store.apply(decision.value.event);
  return decision.value.event;
}

function refusal(store: RegistryStore, subject: string, schema: string) {
  const decision = store.decideRegister(subject, schema);
  assert.equal(decision.ok, false, 'expected the registration to be refused');
  return decision.ok ? undefined : decision.error;
}

function storeWithLevel(level: CompatibilityLevel, subject = 'orders-value') {
  const store = createRegistryStore();
  const config = store.decideConfig(subject, level);
  assert.ok(config.ok);
  store.apply(config.value);
  return store;
}

describe('registry store: registration', () => {
  it('given an empty store, when a schema is registered, then it gets id 1 and version 1', () => {
    const store = createRegistryStore();
    const v = register(store, 'orders-value', V1);
    assert.deepEqual({ id: v.id, version: v.version }, { id: 1, version: 1 });
    assert.deepEqual(store.subjects(), ['orders-value']);
    assert.deepEqual(store.versions('orders-value'), { ok: true, value: [1] });
    assert.deepEqual(store.schemaById(1), { ok: true, value: V1 });
  });

  it('given a registered schema, when the same schema is registered again with other formatting, then no event and the same id and version', () => {
    const store = createRegistryStore();
    const first = register(store, 'orders-value', V1);
    const reordered = JSON.stringify({ fields: JSON.parse(V1).fields, namespace: 'test', name: 'Order', type: 'record' }, null, 2);
    const again = store.decideRegister('orders-value', reordered);
    assert.ok(again.ok && again.value.kind === 'existing');
    assert.equal(again.value.version.id, first.id);
    assert.equal(again.value.version.version, 1);
  });

  it('given a schema in one subject, when the same schema is registered in another subject, then its global id is reused', () => {
    const store = createRegistryStore();
    const a = register(store, 'a-value', V1);
    const b = register(store, 'b-value', V1);
    assert.equal(b.id, a.id);
    assert.equal(b.version, 1);
    const other = register(store, 'b-value', withDefault);
    assert.equal(other.id, 2);
  });

  it('given invalid Avro, when it is registered, then it is refused with 42201', () => {
    const store = createRegistryStore();
    for (const bad of ['{not json', JSON.stringify({ type: 'record', name: 'X' }), '"NoSuchType"']) {
      const error = refusal(store, 's', bad);
      assert.equal(error?.errorCode, 42201);
      assert.equal(error?.status, 422);
    }
  });

  it('given events replayed twice, when applied, then state is unchanged (idempotent replay)', () => {
    const store = createRegistryStore();
    const decision = store.decideRegister('s', V1);
    assert.ok(decision.ok && decision.value.kind === 'new');
    store.apply(decision.value.event);
    store.apply(decision.value.event);
    assert.deepEqual(store.versions('s'), { ok: true, value: [1] });
    assert.equal(register(store, 't', withoutQty).id, 2, 'next id continues after replayed ids');
  });
});

describe('registry store: BACKWARD (default)', () => {
  it('given v1, when a field with a default is added, then it is accepted as version 2 with a new id', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    const v2 = register(store, 'orders-value', withDefault);
    assert.deepEqual({ id: v2.id, version: v2.version }, { id: 2, version: 2 });
  });

  it('given v1, when a field without a default is added, then it is refused with 409 and the avsc reason', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    const error = refusal(store, 'orders-value', withoutDefault);
    assert.equal(error?.status, 409);
    assert.equal(error?.errorCode, 409);
    assert.match(error?.message ?? '', /incompatible with an earlier schema for subject "orders-value"/);
    assert.match(error?.message ?? '', /default-less test\.Order\.venue/);
  });

  it('given v1, when a field type changes, then it is refused', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    assert.match(refusal(store, 'orders-value', qtyAsString)?.message ?? '', /cannot read "int" as "string"/);
  });

  it('given v1, when the compatibility endpoint checks an incompatible schema, then it reports why', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    const report = store.checkCompatibility('orders-value', 'latest', withoutDefault);
    assert.ok(report.ok);
    assert.equal(report.value.isCompatible, false);
    assert.equal(report.value.messages.length, 1);
    assert.deepEqual(store.checkCompatibility('orders-value', '1', withDefault), { ok: true, value: { isCompatible: true, messages: [] } });
  });
});

describe('registry store: FORWARD, FULL, NONE', () => {
  it('given FORWARD, when a field without a default is added, then accepted (old readers ignore it)', () => {
    const store = storeWithLevel('FORWARD');
    register(store, 'orders-value', V1);
    assert.equal(register(store, 'orders-value', withoutDefault).version, 2);
  });

  it('given FORWARD, when a field the old reader needs is removed, then refused', () => {
    const store = storeWithLevel('FORWARD');
    register(store, 'orders-value', V1);
    assert.match(refusal(store, 'orders-value', withoutQty)?.message ?? '', /version 1 cannot read data written with the new schema/);
  });

  it('given BACKWARD, when a field is removed, then accepted (the new reader ignores it)', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    assert.equal(register(store, 'orders-value', withoutQty).version, 2);
  });

  it('given FULL, when a field with a default is added, then accepted; without a default, then refused', () => {
    const store = storeWithLevel('FULL');
    register(store, 'orders-value', V1);
    assert.equal(register(store, 'orders-value', withDefault).version, 2);
    assert.equal(refusal(store, 'orders-value', order([...JSON.parse(withDefault).fields, { name: 'x', type: 'int' }]))?.status, 409);
  });

  it('given FULL, when a field without a default is removed, then refused (old readers need it)', () => {
    const store = storeWithLevel('FULL');
    register(store, 'orders-value', V1);
    assert.equal(refusal(store, 'orders-value', withoutQty)?.status, 409);
  });

  it('given NONE, when a type changes, then accepted', () => {
    const store = storeWithLevel('NONE');
    register(store, 'orders-value', V1);
    assert.equal(register(store, 'orders-value', qtyAsString).version, 2);
  });

  it('given a global level, when a subject has its own level, then the subject level wins', () => {
    const store = createRegistryStore();
    const global = store.decideConfig(null, 'none');
    assert.ok(global.ok);
    store.apply(global.value);
    assert.deepEqual(store.getConfig(null), { ok: true, value: 'NONE' });
    assert.equal(store.getConfig('s').ok, false);
    assert.deepEqual(store.getConfig('s', true), { ok: true, value: 'NONE' });
    const subject = store.decideConfig('s', 'BACKWARD');
    assert.ok(subject.ok);
    store.apply(subject.value);
    register(store, 's', V1);
    assert.equal(refusal(store, 's', qtyAsString)?.status, 409);
    assert.equal(register(store, 'other', V1).id, 1);
    assert.equal(register(store, 'other', qtyAsString).version, 2);
  });

  it('given an unknown level, when config is set, then refused with 42203', () => {
    const decision = createRegistryStore().decideConfig(null, 'SIDEWAYS');
    assert.equal(decision.ok ? 0 : decision.error.errorCode, 42203);
  });
});

describe('registry store: transitive vs latest only', () => {
  // v1 {id, qty} → v2 {id} → v3 {id, qty:string default}: v3 reads v2 data, but not v1's int qty.
  const v3 = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'string', default: '0' }]);

  it('given BACKWARD, when v3 is only compatible with the latest version, then accepted', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    register(store, 'orders-value', withoutQty);
    assert.equal(register(store, 'orders-value', v3).version, 3);
  });

  it('given BACKWARD_TRANSITIVE, when v3 cannot read version 1, then refused naming version 1', () => {
    const store = storeWithLevel('BACKWARD_TRANSITIVE');
    register(store, 'orders-value', V1);
    register(store, 'orders-value', withoutQty);
    const error = refusal(store, 'orders-value', v3);
    assert.match(error?.message ?? '', /version 1/);
    assert.doesNotMatch(error?.message ?? '', /version 2/);
  });

  it('given FORWARD_TRANSITIVE and FULL_TRANSITIVE, when v3 breaks version 1 readers, then refused', () => {
    for (const level of ['FORWARD_TRANSITIVE', 'FULL_TRANSITIVE'] as const) {
      const store = storeWithLevel('NONE');
      register(store, 'orders-value', V1);
      register(store, 'orders-value', withoutQty);
      const config = store.decideConfig('orders-value', level);
      assert.ok(config.ok);
      store.apply(config.value);
      assert.equal(refusal(store, 'orders-value', v3)?.status, 409, level);
    }
  });
});

describe('registry store: lookups', () => {
  it('given a subject, when looking up versions, schemas and ids that do not exist, then Confluent error codes', () => {
    const store = createRegistryStore();
    register(store, 'orders-value', V1);
    const code = (r: { ok: boolean; error?: { errorCode: number } }) => r.error?.errorCode;
    assert.equal(code(store.versions('nope')), 40401);
    assert.equal(code(store.getVersion('nope', 'latest')), 40401);
    assert.equal(code(store.getVersion('orders-value', '7')), 40402);
    assert.equal(code(store.getVersion('orders-value', 'abc')), 42202);
    assert.equal(code(store.getVersion('orders-value', '0')), 42202);
    assert.equal(code(store.schemaById(99)), 40403);
    assert.equal(code(store.lookup('nope', V1)), 40401);
    assert.equal(code(store.lookup('orders-value', withDefault)), 40403);
    assert.deepEqual(store.lookup('orders-value', V1), { ok: true, value: { subject: 'orders-value', version: 1, id: 1, schema: V1 } });
    assert.deepEqual(store.getVersion('orders-value', '-1'), store.getVersion('orders-value', '1'));
  });
});

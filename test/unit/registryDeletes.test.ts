// Deletes, modes, and the fold of `_schemas` records: the pure core of the registry, given / when / then.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromRecord, toRecord, type SchemasRecord } from '../../schemas/registry/records.ts';
import { createRegistryStore, type RegistryEvent, type RegistryStore, type Result } from '../../schemas/registry/store.ts';

type Field = { name: string; type: unknown; default?: unknown };
const order = (fields: Field[]): string => JSON.stringify({ type: 'record', name: 'Order', namespace: 'test', fields });
const V1 = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]);
const withoutQty = order([{ name: 'id', type: 'string' }]);
const qtyAsStringWithDefault = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'string', default: '0' }]);
const other = JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'n', type: 'int' }] });

const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.errorCode} ${r.error.message}`);
  return r.value;
};
const code = (r: Result<unknown>): number | undefined => (r.ok ? undefined : r.error.errorCode);

/** Every event the store applied, in order: what `_schemas` would hold. */
function recordingStore(): { store: RegistryStore; history: RegistryEvent[] } {
  const store = createRegistryStore();
  const history: RegistryEvent[] = [];
  const apply = store.apply;
  return { store: { ...store, apply: (e: RegistryEvent) => (history.push(e), apply(e)) }, history };
}

function register(store: RegistryStore, subject: string, schema: string, explicit?: { id?: number; version?: number }) {
  const decision = value(store.decideRegister(subject, schema, explicit));
  if (decision.kind === 'existing') return decision.version;
  store.apply(decision.event);
  return decision.event;
}
const applyAll = (store: RegistryStore, events: readonly RegistryEvent[]) => events.forEach((e) => store.apply(e));
const deleteSubject = (store: RegistryStore, subject: string, permanent = false) => {
  const { deleted, events } = value(store.decideDeleteSubject(subject, permanent));
  applyAll(store, events);
  return deleted;
};
const deleteVersion = (store: RegistryStore, subject: string, version: string, permanent = false) => {
  const { deleted, events } = value(store.decideDeleteVersion(subject, version, permanent));
  applyAll(store, events);
  return deleted;
};
const setMode = (store: RegistryStore, subject: string | null, mode: string, force = false) => applyAll(store, value(store.decideMode(subject, mode, force)));

describe('registry store: deleting a subject', () => {
  it('given two versions, when the subject is soft-deleted, then it is gone from lookups but its ids still resolve', () => {
    const store = createRegistryStore();
    const a = register(store, 's', V1);
    const b = register(store, 's', withoutQty);
    assert.deepEqual(deleteSubject(store, 's'), [1, 2]);

    assert.deepEqual(store.subjects(), []);
    assert.equal(code(store.versions('s')), 40401);
    assert.equal(code(store.getVersion('s', 'latest')), 40401);
    assert.equal(code(store.lookup('s', V1)), 40401);
    assert.equal(value(store.schemaById(a.id)), V1);
    assert.equal(value(store.schemaById(b.id)), withoutQty);
    assert.deepEqual(store.versionsById(a.id), { ok: true, value: [] });
    assert.deepEqual(store.versionsById(a.id, true), { ok: true, value: [{ subject: 's', version: 1 }] });

    assert.deepEqual(store.subjects({ deleted: true }), ['s']);
    assert.deepEqual(store.subjects({ deletedOnly: true }), ['s']);
    assert.deepEqual(store.versions('s', { deleted: true }), { ok: true, value: [1, 2] });
    assert.equal(value(store.getVersion('s', '2', true)).schema, withoutQty);
    assert.equal(value(store.lookup('s', V1, true)).version, 1);
  });

  it('given a live subject, when deleted permanently, then 40405; an unknown one 40401; soft-deleted twice 40404', () => {
    const store = createRegistryStore();
    register(store, 's', V1);
    assert.equal(code(store.decideDeleteSubject('s', true)), 40405);
    assert.equal(code(store.decideDeleteSubject('nope')), 40401);
    assert.equal(code(store.decideDeleteSubject('nope', true)), 40401);
    deleteSubject(store, 's');
    const again = store.decideDeleteSubject('s');
    assert.equal(code(again), 40404);
    assert.equal(again.ok ? 0 : again.error.status, 404);
  });

  it('given a soft-deleted subject with its own level, when deleted permanently, then versions, ids and level are gone', () => {
    const store = createRegistryStore();
    applyAll(store, [value(store.decideConfig('s', 'FULL'))]);
    const a = register(store, 's', V1);
    deleteSubject(store, 's');
    const { deleted, events } = value(store.decideDeleteSubject('s', true));
    assert.deepEqual(deleted, [1]);
    assert.deepEqual(events, [{ type: 'VersionPermanentlyDeleted', subject: 's', version: 1 }, { type: 'ConfigDeleted', subject: 's' }]);
    applyAll(store, events);
    assert.deepEqual(store.subjects({ deleted: true }), []);
    assert.equal(code(store.schemaById(a.id)), 40403);
    assert.equal(code(store.versionsById(a.id, true)), 40403);
    assert.equal(code(store.getConfig('s')), 40408);
    assert.equal(register(store, 's', V1).version, 1, 'version numbers start again after a permanent delete');
  });

  it('given a soft-deleted subject, when the same schema is registered again, then a new version number with the same id', () => {
    const store = createRegistryStore();
    const a = register(store, 's', V1);
    register(store, 's', withoutQty);
    deleteSubject(store, 's');
    const again = register(store, 's', V1);
    assert.deepEqual({ version: again.version, id: again.id }, { version: 3, id: a.id });
    assert.deepEqual(store.versions('s'), { ok: true, value: [3] });
  });
});

describe('registry store: deleting a version', () => {
  it('given versions 1 and 2, when each is deleted, then Confluent codes 40406, 40407, 40402, 40401, 42202', () => {
    const store = createRegistryStore();
    register(store, 's', V1);
    register(store, 's', withoutQty);
    assert.equal(deleteVersion(store, 's', '1'), 1);
    assert.equal(code(store.decideDeleteVersion('s', '1')), 40406);
    assert.equal(code(store.decideDeleteVersion('s', '2', true)), 40407);
    assert.equal(code(store.decideDeleteVersion('s', '9')), 40402);
    assert.equal(code(store.decideDeleteVersion('nope', '1')), 40401);
    assert.equal(code(store.decideDeleteVersion('s', 'abc')), 42202);
    assert.deepEqual(store.versions('s'), { ok: true, value: [2] });
    assert.equal(deleteVersion(store, 's', '1', true), 1);
    assert.deepEqual(store.versions('s', { deleted: true }), { ok: true, value: [2] });
  });

  it('given versions 1 and 2, when `latest` is deleted, then version 2 goes and latest is version 1', () => {
    const store = createRegistryStore();
    register(store, 's', V1);
    register(store, 's', withoutQty);
    assert.equal(deleteVersion(store, 's', 'latest'), 2);
    assert.equal(value(store.getVersion('s', 'latest')).version, 1);
    assert.equal(deleteVersion(store, 's', '-1'), 1);
    assert.equal(code(store.decideDeleteVersion('s', 'latest')), 40402, 'no live version left');
  });

  it('given a soft-deleted latest version, when registering, then compatibility is checked against the live latest only', () => {
    // v1 {id, qty:int} → v2 {id}; the candidate {id, qty:string = "0"} reads v2 data but not v1's int qty.
    const store = createRegistryStore();
    register(store, 's', V1);
    register(store, 's', withoutQty);
    deleteVersion(store, 's', '2');
    const refused = store.decideRegister('s', qtyAsStringWithDefault);
    assert.equal(code(refused), 409);
    assert.match(refused.ok ? '' : refused.error.message, /version 1/);
  });

  it('given BACKWARD_TRANSITIVE, when the version the candidate breaks is soft-deleted, then it is accepted', () => {
    const store = createRegistryStore();
    applyAll(store, [value(store.decideConfig('s', 'BACKWARD_TRANSITIVE'))]);
    register(store, 's', V1);
    register(store, 's', withoutQty);
    assert.equal(code(store.decideRegister('s', qtyAsStringWithDefault)), 409);
    deleteVersion(store, 's', '1');
    assert.equal(register(store, 's', qtyAsStringWithDefault).version, 3);
  });
});

describe('registry store: modes', () => {
  it('given READONLY, when registering, deleting or changing a level, then 42205; reads still answer', () => {
    const store = createRegistryStore();
    register(store, 's', V1);
    setMode(store, null, 'readonly');
    assert.deepEqual(store.getMode(null), { ok: true, value: 'READONLY' });
    const refused = store.decideRegister('s', withoutQty);
    assert.deepEqual(refused.ok ? null : { status: refused.error.status, code: refused.error.errorCode }, { status: 422, code: 42205 });
    assert.match(refused.ok ? '' : refused.error.message, /read-only/);
    assert.equal(code(store.decideDeleteSubject('s')), 42205);
    assert.equal(code(store.decideDeleteVersion('s', '1')), 42205);
    assert.equal(code(store.decideConfig('s', 'NONE')), 42205);
    assert.equal(value(store.getVersion('s', 'latest')).version, 1);
    setMode(store, null, 'READWRITE');
    assert.equal(register(store, 's', withoutQty).version, 2);
  });

  it('given a subject-level mode, when asked, then it wins over the global mode; unknown modes are 42204', () => {
    const store = createRegistryStore();
    setMode(store, 'locked', 'READONLY');
    assert.equal(code(store.getMode('free')), 40409);
    assert.deepEqual(store.getMode('free', true), { ok: true, value: 'READWRITE' });
    assert.equal(code(store.decideRegister('locked', V1)), 42205);
    assert.equal(register(store, 'free', V1).version, 1);
    assert.equal(code(store.decideMode(null, 'SIDEWAYS')), 42204);
  });

  it('given live subjects, when entering IMPORT, then refused unless forced', () => {
    const store = createRegistryStore();
    register(store, 's', V1);
    assert.equal(code(store.decideMode(null, 'IMPORT')), 42205);
    assert.deepEqual(store.decideMode(null, 'IMPORT', true), { ok: true, value: [{ type: 'ModeChanged', subject: null, mode: 'IMPORT' }] });
  });

  it('given IMPORT, when importing with ids, then ids and versions are kept, unchecked, and never change meaning', () => {
    const store = createRegistryStore();
    register(store, 'gone', other);
    deleteSubject(store, 'gone');
    const entering = value(store.decideMode(null, 'IMPORT'));
    assert.deepEqual(entering.map((e) => e.type), ['VersionPermanentlyDeleted', 'ModeChanged'], 'soft-deleted leftovers go for good');
    applyAll(store, entering);

    assert.equal(code(store.decideRegister('s', V1)), 42205, 'IMPORT needs an explicit id');
    assert.deepEqual(register(store, 's', V1, { id: 40, version: 7 }), { type: 'SchemaRegistered', subject: 's', version: 7, id: 40, schema: V1 });
    const unchecked = register(store, 's', order([{ name: 'id', type: 'long' }]), { id: 41 });
    assert.equal(unchecked.version, 8);
    assert.equal(register(store, 's', V1, { id: 40, version: 7 }).version, 7, 'an import retried is the same version');
    assert.equal(code(store.decideRegister('s', withoutQty, { id: 40 })), 42205, 'id 40 already means another schema');
    assert.equal(code(store.decideRegister('s', withoutQty, { id: 42, version: 7 })), 42205, 'version 7 already exists');

    setMode(store, null, 'READWRITE');
    assert.equal(code(store.decideRegister('s', withoutQty, { id: 50 })), 42205, 'ids are only accepted in IMPORT');
    assert.equal(register(store, 't', withoutQty).id, 42, 'new ids continue after imported ones');
  });
});

describe('registry store: fold of _schemas records', () => {
  /** A history with every kind of record: registrations, soft and permanent deletes, levels, modes. */
  function history(): { store: RegistryStore; records: SchemasRecord[] } {
    const { store, history: events } = recordingStore();
    applyAll(store, [value(store.decideConfig(null, 'FULL'))]);
    register(store, 'a', V1);
    register(store, 'a', order([...JSON.parse(V1).fields, { name: 'venue', type: 'string', default: 'paper' }]));
    register(store, 'b', other);
    register(store, 'c', withoutQty);
    applyAll(store, [value(store.decideConfig('c', 'NONE'))]);
    deleteVersion(store, 'a', '1');
    deleteSubject(store, 'b');
    deleteSubject(store, 'c');
    deleteSubject(store, 'c', true);
    setMode(store, 'a', 'READONLY');
    return { store, records: events.map(toRecord) };
  }

  function snapshot(store: RegistryStore) {
    const subjects = store.subjects({ deleted: true });
    return {
      live: store.subjects(),
      versions: subjects.map((s) => [s, value(store.versions(s, { deleted: true })).map((v) => value(store.getVersion(s, String(v), true)))]),
      live_versions: subjects.map((s) => store.versions(s)),
      ids: [1, 2, 3, 4, 5].map((id) => [store.schemaById(id), store.versionsById(id, true)]),
      config: [store.getConfig(null), store.getConfig('c'), store.getConfig('a')],
      mode: [store.getMode(null), store.getMode('a')],
    };
  }

  const fold = (records: readonly SchemasRecord[]) => {
    const store = createRegistryStore();
    for (const r of records) {
      const event = fromRecord(r.key, r.value);
      if (event !== null) store.apply(event);
    }
    return store;
  };

  /** Kafka compaction: the last record of each key, in log order; tombstones go once delete.retention.ms passes. */
  const compact = (records: readonly SchemasRecord[], dropTombstones: boolean) => {
    const last = new Map(records.map((r, i) => [r.key, i]));
    return records.filter((r, i) => last.get(r.key) === i && !(dropTombstones && r.value === null));
  };

  it('given a history of deletes, when a fresh store folds its records, then it answers as the live store', () => {
    const { store, records } = history();
    assert.deepEqual(snapshot(fold(records)), snapshot(store));
    assert.deepEqual(fold(records).subjects({ deleted: true }), ['a', 'b']);
    assert.equal(code(fold(records).decideRegister('a', V1)), 42205, 'the subject mode survives');
  });

  it('given the topic compacted, with or without its tombstones, when folded, then the same state', () => {
    const { store, records } = history();
    assert.ok(compact(records, false).length < records.length);
    assert.deepEqual(snapshot(fold(compact(records, false))), snapshot(store));
    assert.deepEqual(snapshot(fold(compact(records, true))), snapshot(store));
  });

  it('given a topic written by Confluent, when it has a DELETE_SUBJECT record, then those versions fold as soft-deleted', () => {
    const registered = (version: number, id: number, schema: string): SchemasRecord => toRecord({ type: 'SchemaRegistered', subject: 's', version, id, schema });
    const store = fold([
      registered(1, 1, V1),
      registered(2, 2, withoutQty),
      { key: '{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}', value: '{"subject":"s","version":1}' },
      { key: '{"keytype":"NOOP","magic":0}', value: null },
    ]);
    assert.deepEqual(store.versions('s'), { ok: true, value: [2] });
    assert.deepEqual(store.versions('s', { deletedOnly: true }), { ok: true, value: [1] });
    assert.equal(value(store.schemaById(1)), V1);
  });

  it('given records in Confluent format, when read, then keys and values round-trip and tombstones are deletes', () => {
    const soft: RegistryEvent = { type: 'VersionSoftDeleted', subject: 's', version: 2, id: 9, schema: V1 };
    assert.deepEqual(toRecord(soft), {
      key: '{"keytype":"SCHEMA","subject":"s","version":2,"magic":1}',
      value: JSON.stringify({ subject: 's', version: 2, id: 9, schema: V1, deleted: true }),
    });
    assert.deepEqual(toRecord({ type: 'ModeChanged', subject: null, mode: 'READONLY' }), {
      key: '{"keytype":"MODE","subject":null,"magic":0}',
      value: '{"subject":null,"mode":"READONLY"}',
    });
    const events: RegistryEvent[] = [
      soft,
      { type: 'VersionPermanentlyDeleted', subject: 's', version: 2 },
      { type: 'SubjectSoftDeleted', subject: 's', upToVersion: 3 },
      { type: 'ConfigDeleted', subject: 's' },
      { type: 'ModeChanged', subject: 's', mode: 'IMPORT' },
      { type: 'ModeDeleted', subject: null },
    ];
    for (const e of events) {
      const r = toRecord(e);
      assert.deepEqual(fromRecord(r.key, r.value), e);
    }
    assert.deepEqual(fromRecord('{"keytype":"MODE","subject":null,"magic":0}', '{"mode":"READONLY_OVERRIDE"}'), {
      type: 'ModeChanged',
      subject: null,
      mode: 'READONLY',
    });
  });
});

// The fold of `_schemas` records: a fresh store that folds the topic, compacted or not, answers as the live
// store did, and records round-trip in Confluent's format. Given / when / then over the registry's pure core.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromRecord, toRecord, type SchemasRecord } from '../../schemas/registry/records.ts';
import { createRegistryStore, type RegistryEvent, type RegistryStore } from '../../schemas/registry/store.ts';
import {
  applyAll, code, deleteSubject, deleteVersion, order, other, recordingStore, register, setMode, V1, value, withoutQty,
} from '../helpers/registryStore.ts';

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

// Deletes and modes: the pure core of the registry, given / when / then. The fold of `_schemas` records
// is tested in registryRecords.test.ts; both share the steps in test/helpers/registryStore.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistryStore } from '../../schemas/registry/store.ts';
import {
  applyAll, code, deleteSubject, deleteVersion, order, other, qtyAsStringWithDefault, register, setMode, V1, value, withoutQty,
} from '../helpers/registryStore.ts';

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

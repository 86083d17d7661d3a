// Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary) with avsc types built
// once per schema. Writers register the schema under `<topic>-value`; readers resolve any registered
// writer version to the reader's own schema, so schemas can evolve compatibly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { avroDir } from './generate.ts';
import { RouterError } from './errors.ts';
import type { CancelRequest, Control, DeadLetter, ExecutionReport, Instrument, Order, Quote, RiskDecision, Signal } from './types.ts';

export interface RecordTypes {
  Signal: Signal; RiskDecision: RiskDecision; Order: Order; ExecutionReport: ExecutionReport;
  Quote: Quote; Control: Control; DeadLetter: DeadLetter; CancelRequest: CancelRequest; Instrument: Instrument;
}
export type RecordName = keyof RecordTypes;

const schemaText = new Map<RecordName, string>();
export function avroSchema(name: RecordName): string {
  let s = schemaText.get(name);
  if (s === undefined) {
    s = JSON.stringify(JSON.parse(readFileSync(join(avroDir, `${name}.avsc`), 'utf8')));
    schemaText.set(name, s);
  }
  return s;
}

const localTypes = new Map<RecordName, avro.Type>();
export function avroType(name: RecordName): avro.Type {
  let t = localTypes.get(name);
  if (t === undefined) {
    t = avro.Type.forSchema(JSON.parse(avroSchema(name)), { wrapUnions: false });
    localTypes.set(name, t);
  }
  return t;
}

export interface Codec {
  /** Registers `name` under `<topic>-value` (idempotent) and returns its id. */
  register(topic: string, name: RecordName): Promise<number>;
  encode<N extends RecordName>(topic: string, value: RecordTypes[N]): Buffer;
  decode<N extends RecordName>(name: N, buf: Buffer): Promise<RecordTypes[N]>;
}

export function createCodec(registryUrl: string): Codec {
  const registry = new SchemaRegistry({ host: registryUrl });
  const writers = new Map<string, { id: number; type: avro.Type; header: Buffer }>();
  type Reader = avro.Type | { resolver: avro.Resolver; reader: avro.Type };
  const readers = new Map<string, Reader>();
  const resolving = new Map<string, Promise<Reader>>();

  async function writerSchema(id: number): Promise<avro.Type> {
    const res = await fetch(`${registryUrl}/schemas/ids/${id}`);
    if (!res.ok) throw new RouterError('SCHEMA_NOT_FOUND', `schema id ${id} not in the registry (${res.status})`, { retriable: res.status >= 500 });
    const body = (await res.json()) as { schema: string };
    return avro.Type.forSchema(JSON.parse(body.schema), { wrapUnions: false });
  }

  return {
    async register(topic, name) {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: avroSchema(name) }, { subject: `${topic}-value` });
      const header = Buffer.alloc(5);
      header.writeUInt8(0, 0);
      header.writeUInt32BE(id, 1);
      writers.set(topic, { id, type: avroType(name), header });
      return id;
    },
    encode(topic, value) {
      const w = writers.get(topic);
      if (w === undefined) throw new RouterError('SCHEMA_NOT_REGISTERED', `no schema registered for topic ${topic}`, { context: { topic } });
      return Buffer.concat([w.header, w.type.toBuffer(value)]);
    },
    async decode(name, buf) {
      if (buf.length < 5 || buf.readUInt8(0) !== 0) throw new RouterError('BAD_WIRE_FORMAT', 'record is not in the Confluent Avro wire format');
      const id = buf.readUInt32BE(1);
      const key = `${name}:${id}`;
      let r = readers.get(key);
      if (r === undefined) {
        // One registry fetch per schema id, however many records of a batch wait for it.
        let pending = resolving.get(key);
        if (pending === undefined) {
          pending = writerSchema(id).then((writer) => {
            const reader = avroType(name);
            const made = writer.equals(reader) ? reader : { resolver: reader.createResolver(writer), reader };
            readers.set(key, made);
            return made;
          }).finally(() => resolving.delete(key));
          resolving.set(key, pending);
        }
        r = await pending;
      }
      const body = buf.subarray(5);
      if ('resolver' in r) return r.reader.fromBuffer(body, r.resolver, true) as RecordTypes[typeof name];
      return (r as avro.Type).fromBuffer(body) as RecordTypes[typeof name];
    },
  };
}

// The Confluent REST routes of the registry. Reads answer from the store; writes go through `write`,
// which persists a decision's records before they are folded and answered.
import { CONTENT_TYPE, HttpError, type RegistryApp } from './http.ts';
import type { RegistryStore } from './store.ts';
import type { RegistryEvent, Result } from './model.ts';

/** Runs a decision inside the single writer; its events are durable and folded before `answer` returns. */
export type Write = <T>(decide: () => { readonly events: readonly RegistryEvent[]; readonly answer: T }) => Promise<T>;

export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new HttpError(result.error);
  return result.value;
}

interface SchemaBody {
  schema: string;
  schemaType?: string;
  references?: unknown[];
  id?: number;
  version?: number;
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

function parseId(raw: string): number {
  const id = Number(raw);
  if (!Number.isInteger(id)) throw new HttpError({ status: 404, errorCode: 40403, message: `Schema ${raw} not found` });
  return id;
}

/** Confluent's boolean query parameters: `true` in any case, anything else is false. */
const flag = (value: string | undefined): boolean => value?.toLowerCase() === 'true';

const schemaBody = {
  type: 'object',
  required: ['schema'],
  properties: {
    schema: { type: 'string' },
    schemaType: { type: 'string' },
    references: { type: 'array' },
    id: { type: 'integer' },
    version: { type: 'integer' },
  },
} as const;
const configBody = { type: 'object', required: ['compatibility'], properties: { compatibility: { type: 'string' } } } as const;
const modeBody = { type: 'object', required: ['mode'], properties: { mode: { type: 'string' } } } as const;
const subjectParams = { type: 'object', properties: { subject: { type: 'string' } } } as const;
const versionParams = { type: 'object', properties: { subject: { type: 'string' }, version: { type: 'string' } } } as const;
const versionResponse = {
  type: 'object',
  properties: { subject: { type: 'string' }, id: { type: 'integer' }, version: { type: 'integer' }, schema: { type: 'string' } },
} as const;
const intList = { type: 'array', items: { type: 'integer' } } as const;
const subjectVersionList = {
  type: 'array',
  items: { type: 'object', properties: { subject: { type: 'string' }, version: { type: 'integer' } } },
} as const;

type Deleted = { Querystring: { deleted?: string; deletedOnly?: string } };
type Permanent = { Querystring: { permanent?: string } };
type SubjectP = { Params: { subject: string } };
type VersionP = { Params: { subject: string; version: string } };
type IdP = { Params: { id: string } };

export function registerSubjectRoutes(app: RegistryApp, store: RegistryStore, write: Write): void {
  const filter = (q: Deleted['Querystring']) => ({ deleted: flag(q.deleted), deletedOnly: flag(q.deletedOnly) });

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['AVRO']);
  app.get<Deleted>('/subjects', async (req) => store.subjects(filter(req.query)));
  app.get<SubjectP & Deleted>('/subjects/:subject/versions', { schema: { params: subjectParams, response: { 200: intList } } }, async (req) =>
    unwrap(store.versions(req.params.subject, filter(req.query))),
  );
  app.get<VersionP & Deleted>('/subjects/:subject/versions/:version', { schema: { params: versionParams, response: { 200: versionResponse } } }, async (req) =>
    unwrap(store.getVersion(req.params.subject, req.params.version, flag(req.query.deleted))),
  );
  // The schema itself as the body (it is JSON already), not wrapped in a version object.
  app.get<VersionP & Deleted>('/subjects/:subject/versions/:version/schema', { schema: { params: versionParams } }, async (req, reply) =>
    reply.type(CONTENT_TYPE).send(unwrap(store.getVersion(req.params.subject, req.params.version, flag(req.query.deleted))).schema),
  );
  app.get<IdP>('/schemas/ids/:id', async (req) => ({ schema: unwrap(store.schemaById(parseId(req.params.id))) }));
  app.get<IdP & Deleted>('/schemas/ids/:id/versions', { schema: { response: { 200: subjectVersionList } } }, async (req) =>
    unwrap(store.versionsById(parseId(req.params.id), flag(req.query.deleted))),
  );
  app.get<IdP & Deleted>('/schemas/ids/:id/subjects', { schema: { response: { 200: { type: 'array', items: { type: 'string' } } } } }, async (req) => [
    ...new Set(unwrap(store.versionsById(parseId(req.params.id), flag(req.query.deleted))).map((v) => v.subject)),
  ]);

  app.post<SubjectP & { Body: SchemaBody }>(
    '/subjects/:subject/versions',
    { schema: { params: subjectParams, body: schemaBody, response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } } } },
    async (req) => {
      assertAvro(req.body);
      const { schema, id, version } = req.body;
      return write(() => {
        const decision = unwrap(store.decideRegister(req.params.subject, schema, { id, version }));
        if (decision.kind === 'existing') return { events: [], answer: { id: decision.version.id } };
        return { events: [decision.event], answer: { id: decision.event.id } };
      });
    },
  );
  app.post<SubjectP & Deleted & { Body: SchemaBody }>(
    '/subjects/:subject',
    { schema: { params: subjectParams, body: schemaBody, response: { 200: versionResponse } } },
    async (req) => {
      assertAvro(req.body);
      return unwrap(store.lookup(req.params.subject, req.body.schema, flag(req.query.deleted)));
    },
  );
  app.delete<SubjectP & Permanent>('/subjects/:subject', { schema: { params: subjectParams, response: { 200: intList } } }, async (req) =>
    write(() => {
      const { deleted, events } = unwrap(store.decideDeleteSubject(req.params.subject, flag(req.query.permanent)));
      return { events, answer: deleted };
    }),
  );
  app.delete<VersionP & Permanent>('/subjects/:subject/versions/:version', { schema: { params: versionParams, response: { 200: { type: 'integer' } } } }, async (req) =>
    write(() => {
      const { deleted, events } = unwrap(store.decideDeleteVersion(req.params.subject, req.params.version, flag(req.query.permanent)));
      return { events, answer: deleted };
    }),
  );
  app.post<VersionP & { Body: SchemaBody }>(
    '/compatibility/subjects/:subject/versions/:version',
    { schema: { params: versionParams, body: schemaBody } },
    async (req) => {
      assertAvro(req.body);
      const report = unwrap(store.checkCompatibility(req.params.subject, req.params.version, req.body.schema));
      return report.isCompatible ? { is_compatible: true } : { is_compatible: false, messages: report.messages };
    },
  );
}

/** Compatibility levels and modes, global (`/config`, `/mode`) and per subject. */
export function registerSettingsRoutes(app: RegistryApp, store: RegistryStore, write: Write): void {
  type DefaultToGlobal = { Querystring: { defaultToGlobal?: string } };
  type Force = { Querystring: { force?: string } };

  const getConfig = (subject: string | null, defaultToGlobal: boolean) => ({ compatibilityLevel: unwrap(store.getConfig(subject, defaultToGlobal)) });
  const putConfig = (subject: string | null, level: string) =>
    write(() => {
      const event = unwrap(store.decideConfig(subject, level));
      return { events: [event], answer: { compatibility: event.compatibility } };
    });
  app.get('/config', async () => getConfig(null, true));
  app.put<{ Body: { compatibility: string } }>('/config', { schema: { body: configBody } }, async (req) => putConfig(null, req.body.compatibility));
  app.get<SubjectP & DefaultToGlobal>('/config/:subject', async (req) => getConfig(req.params.subject, flag(req.query.defaultToGlobal)));
  app.put<SubjectP & { Body: { compatibility: string } }>('/config/:subject', { schema: { body: configBody } }, async (req) =>
    putConfig(req.params.subject, req.body.compatibility),
  );

  const getMode = (subject: string | null, defaultToGlobal: boolean) => ({ mode: unwrap(store.getMode(subject, defaultToGlobal)) });
  const putMode = (subject: string | null, mode: string, force: boolean) =>
    write(() => {
      const events = unwrap(store.decideMode(subject, mode, force));
      return { events, answer: { mode: mode.toUpperCase() } };
    });
  app.get('/mode', async () => getMode(null, true));
  app.put<Force & { Body: { mode: string } }>('/mode', { schema: { body: modeBody } }, async (req) => putMode(null, req.body.mode, flag(req.query.force)));
  app.get<SubjectP & DefaultToGlobal>('/mode/:subject', async (req) => getMode(req.params.subject, flag(req.query.defaultToGlobal)));
  app.put<SubjectP & Force & { Body: { mode: string } }>('/mode/:subject', { schema: { body: modeBody } }, async (req) =>
    putMode(req.params.subject, req.body.mode, flag(req.query.force)),
  );
}

// What the registry's server and its routes both need: the app's type, the Confluent content type and
// the error a route throws for the server's error handler to answer. Kept apart so that server.ts
// (which registers the routes) and routes.ts (which throws and types against the app) do not import
// each other.
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import type { RegistryError } from './model.ts';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export type RegistryApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>;

export class HttpError extends Error {
  readonly registryError: RegistryError;
  constructor(registryError: RegistryError) {
    super(registryError.message);
    this.registryError = registryError;
  }
}

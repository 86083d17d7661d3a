// `order-router ops-token`: ops API tokens kept in Postgres (the alternative to OPS_TOKENS). The token
// is generated here, printed once on stdout, and only its sha256 is stored.
import { parseArgs } from 'node:util';
import { createPool, migrate } from '../../streams/runtime/db.ts';
import { ConfigError, loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { generateToken, OPS_ROLES, sha256, type Role } from './auth.ts';
import { addToken, revokeToken } from './tokenStore.ts';

export const OPS_TOKEN_USAGE = `  order-router ops-token --name <name> --role viewer|operator|admin   create or replace an ops API token (printed once, stored hashed)
  order-router ops-token --name <name> --revoke                     revoke it`;

export async function runOpsTokenCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, role: { type: 'string' }, revoke: { type: 'boolean', default: false } } });
  const name = values.name ?? '';
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new ConfigError('--name: 1-64 of A-Z a-z 0-9 . _ @ -');
  if (!values.revoke && !(OPS_ROLES as readonly string[]).includes(values.role ?? '')) throw new ConfigError(`--role: one of ${OPS_ROLES.join(', ')}`);
  const env = loadRuntimeEnv();
  await migrate(env);
  const pool = createPool(env, 1);
  try {
    if (values.revoke) {
      const revoked = await revokeToken(pool, name);
      console.error(revoked ? `revoked the ops token ${name}` : `no live ops token named ${name}`);
      return revoked ? 0 : 1;
    }
    const token = generateToken();
    await addToken(pool, name, values.role as Role, sha256(token));
    console.error(`ops token ${name} (${values.role}) stored; it is shown once, below:`);
    console.log(token);
    return 0;
  } finally {
    await pool.end();
  }
}

// Short-lived signed tickets for the event stream. A browser's EventSource cannot send an
// Authorization header, and the ops bearer token must not travel in a URL (URLs end up in browser
// history, proxies and access logs). So the page trades its token, in a header, for a ticket that
// names the caller and their role, expires within seconds and is good only to open the stream.
// Signed with a per-process random key: nothing to configure or leak, and a restart voids every
// ticket (the page simply asks for a new one when it reconnects).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OpsIdentity, Role } from '../ops/auth.ts';

const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export interface Tickets {
  issue(who: OpsIdentity): { ticket: string; expiresAt: number };
  /** The caller a ticket was issued to, or null when it is forged, expired or malformed. */
  verify(ticket: string | undefined): OpsIdentity | null;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createTickets(o: { ttlMs: number; clock?: () => number; key?: Buffer }): Tickets {
  const key = o.key ?? randomBytes(32);
  const clock = o.clock ?? Date.now;
  const sign = (body: string) => createHmac('sha256', key).update(`dashboard-events.${body}`).digest();
  return {
    issue(who) {
      const expiresAt = clock() + o.ttlMs;
      // The nonce makes two tickets issued in the same millisecond differ; nothing remembers it.
      const body = b64(JSON.stringify({ n: who.name, r: who.role, e: expiresAt, j: randomBytes(8).toString('hex') }));
      return { ticket: `${body}.${b64(sign(body))}`, expiresAt };
    },
    verify(ticket) {
      if (ticket === undefined || ticket.length > 1024) return null;
      const [body, mac, extra] = ticket.split('.');
      if (!body || !mac || extra !== undefined) return null;
      const given = Buffer.from(mac, 'base64url');
      const expected = sign(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      try {
        const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { n?: unknown; r?: unknown; e?: unknown };
        if (typeof p.n !== 'string' || typeof p.e !== 'number' || !ROLES.includes(p.r as Role)) return null;
        return p.e > clock() ? { name: p.n, role: p.r as Role } : null;
      } catch {
        return null;
      }
    },
  };
}

// The gateway's brokerage session: kept alive with POST /tickle, probed with GET /iserver/auth/status,
// re-established with POST /iserver/auth/ssodh/init when the SSO login still stands, and followed by
// GET /iserver/accounts, which the gateway wants before it accepts orders in a new session.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { IbkrConfig } from './config.ts';
import { IbkrError } from './errors.ts';
import type { IbkrHttp } from './http.ts';

const authStatusSchema = z.object({
  authenticated: z.boolean(), connected: z.boolean().default(true), competing: z.boolean().default(false), message: z.string().default(''),
}).passthrough();
const tickleSchema = z.object({ iserver: z.object({ authStatus: authStatusSchema }).passthrough().optional() }).passthrough();
const accountsSchema = z.object({ accounts: z.array(z.string()) }).passthrough();

export type AuthStatus = z.output<typeof authStatusSchema>;

export interface IbkrSession {
  start(): Promise<void>;
  stop(): void;
  isUp(): boolean;
  /** Fresh auth status from the gateway; re-establishes the session when it can. */
  probe(): Promise<AuthStatus>;
  /** A 401 or an `sts` frame said the session is gone. */
  markLost(reason: string): void;
  /** Re-runs GET /iserver/accounts (the gateway asked for it). */
  queryAccounts(): Promise<void>;
}

export function createIbkrSession(config: IbkrConfig, http: IbkrHttp, log: Logger | undefined): IbkrSession {
  let up = false;
  let accountsQueried = false;
  let timer: NodeJS.Timeout | null = null;
  let recovering: Promise<void> | null = null;

  const read = async (operation: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> =>
    (await http.request({ operation, method, path, body })).json;

  async function queryAccounts(): Promise<void> {
    const parsed = accountsSchema.safeParse(await read('accounts', 'GET', '/iserver/accounts'));
    if (!parsed.success) throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr accounts: unreadable answer', { operation: 'accounts' });
    // Which accounts the session lists is not printed: only that ours is missing.
    if (!parsed.data.accounts.includes(config.accountId)) {
      throw new IbkrError('VENUE_REJECTED', 'ibkr accounts: the configured account is not on this gateway session', { operation: 'accounts' });
    }
    accountsQueried = true;
  }

  function setUp(next: boolean, detail: string): void {
    if (next === up) return;
    up = next;
    if (!next) accountsQueried = false;
    if (next) log?.info({ venue: 'ibkr' }, 'ibkr session authenticated');
    else log?.warn({ venue: 'ibkr', detail }, 'ibkr session lost');
  }

  async function adopt(status: AuthStatus): Promise<AuthStatus> {
    if (status.authenticated && status.connected) {
      if (!accountsQueried) await queryAccounts();
      setUp(true, '');
    } else {
      setUp(false, status.message || (status.connected ? 'not authenticated' : 'gateway not connected'));
    }
    return status;
  }

  async function reauthenticate(): Promise<void> {
    const json = await read('reauthenticate', 'POST', '/iserver/auth/ssodh/init', { publish: true, compete: true });
    const parsed = authStatusSchema.safeParse(json);
    if (parsed.success) await adopt(parsed.data);
  }

  async function probe(): Promise<AuthStatus> {
    const parsed = authStatusSchema.safeParse(await read('authStatus', 'GET', '/iserver/auth/status'));
    if (!parsed.success) throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr authStatus: unreadable answer', { operation: 'authStatus' });
    const status = await adopt(parsed.data);
    if (!up && status.connected) {
      recovering ??= reauthenticate().catch((err: unknown) => log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr re-authentication failed')).finally(() => { recovering = null; });
      await recovering;
      return { ...status, authenticated: up };
    }
    return status;
  }

  async function tickle(): Promise<void> {
    const parsed = tickleSchema.safeParse(await read('tickle', 'POST', '/tickle'));
    const status = parsed.success ? parsed.data.iserver?.authStatus : undefined;
    if (status && status.authenticated && up) return;
    await probe();
  }

  function schedule(): void {
    // A lost session is re-checked often; a live one only as often as it needs keeping alive.
    const every = up ? config.tickleMs : Math.min(config.tickleMs, config.pollMs);
    timer = setTimeout(() => {
      tickle().catch((err: unknown) => log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr tickle failed')).finally(() => { if (timer) schedule(); });
    }, every);
    timer.unref();
  }

  return {
    async start() {
      await probe();
      if (!timer) schedule();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    isUp: () => up,
    probe,
    markLost: (reason) => setUp(false, reason),
    queryAccounts,
  };
}

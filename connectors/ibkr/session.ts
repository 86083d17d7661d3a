// The gateway's brokerage session: kept alive with POST /tickle, probed with GET /iserver/auth/status,
// re-established with POST /iserver/auth/ssodh/init when the SSO login still stands, and followed by
// GET /iserver/accounts, which the gateway wants before it accepts orders in a new session. A login
// that holds several accounts starts on its default one, and live orders, trades and market data are
// those of the selected account, so the configured account is selected with POST /iserver/account.
// Every (re)established session or account switch starts a new `epoch`: what the gateway cached for
// the previous one (the live-orders subscription) is not to be trusted in the next.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { IbkrConfig } from './config.ts';
import { IbkrError } from './errors.ts';
import type { IbkrHttp } from './http.ts';

const authStatusSchema = z.object({
  authenticated: z.boolean(), connected: z.boolean().default(true), competing: z.boolean().default(false), message: z.string().default(''),
}).passthrough();
const tickleSchema = z.object({ session: z.string().optional(), iserver: z.object({ authStatus: authStatusSchema }).passthrough().optional() }).passthrough();
const accountsSchema = z.object({ accounts: z.array(z.string()), selectedAccount: z.string().optional() }).passthrough();
const switchSchema = z.object({ set: z.boolean().optional(), acctId: z.string().optional() }).passthrough();

export type AuthStatus = z.output<typeof authStatusSchema>;

export interface IbkrSession {
  start(): Promise<void>;
  stop(): void;
  isUp(): boolean;
  /** Fresh auth status from the gateway; re-establishes the session when it can. */
  probe(): Promise<AuthStatus>;
  /** A 401 or an `sts` frame said the session is gone. */
  markLost(reason: string): void;
  /** Re-runs GET /iserver/accounts and selects the configured account (the gateway asked for it). */
  queryAccounts(): Promise<void>;
  /** The websocket (`act`) says another account is selected: select ours again. */
  accountSelected(selected: string): void;
  /** The `session` value of POST /tickle: what the websocket wants before it serves anything. */
  sessionId(): Promise<string>;
  /** Bumped for every new brokerage session and account switch. */
  epoch(): number;
}

export function createIbkrSession(config: IbkrConfig, http: IbkrHttp, log: Logger | undefined): IbkrSession {
  let up = false;
  let accountsQueried = false;
  let epoch = 0;
  let timer: NodeJS.Timeout | null = null;
  let recovering: Promise<void> | null = null;
  let selecting: Promise<void> | null = null;

  const read = async (operation: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> =>
    (await http.request({ operation, method, path, body })).json;

  async function readAccounts(): Promise<z.output<typeof accountsSchema>> {
    const parsed = accountsSchema.safeParse(await read('accounts', 'GET', '/iserver/accounts'));
    if (!parsed.success) throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr accounts: unreadable answer', { operation: 'accounts' });
    // Which accounts the session lists is not printed: only that ours is missing.
    if (!parsed.data.accounts.includes(config.accountId)) {
      throw new IbkrError('VENUE_REJECTED', 'ibkr accounts: the configured account is not on this gateway session', { operation: 'accounts' });
    }
    return parsed.data;
  }

  async function selectAccount(): Promise<void> {
    const accounts = await readAccounts();
    // A single-account login has nothing to switch (the reference says switching is for multi-account structures).
    if (accounts.accounts.length > 1 && accounts.selectedAccount !== config.accountId) {
      const answer = switchSchema.safeParse(await read('switchAccount', 'POST', '/iserver/account', { acctId: config.accountId }));
      const confirmed = answer.success && answer.data.set === true && answer.data.acctId === config.accountId;
      if (!confirmed && (await readAccounts()).selectedAccount !== config.accountId) {
        throw new IbkrError('VENUE_UNAVAILABLE', 'ibkr switchAccount: the gateway did not select the configured account', { operation: 'switchAccount' });
      }
      epoch += 1;
      log?.info({ venue: 'ibkr' }, 'ibkr gateway switched to the configured account');
    }
    accountsQueried = true;
  }

  function queryAccounts(): Promise<void> {
    selecting ??= selectAccount().finally(() => { selecting = null; });
    return selecting;
  }

  function setUp(next: boolean, detail: string): void {
    if (next === up) return;
    up = next;
    if (!next) accountsQueried = false;
    if (next) {
      epoch += 1;
      log?.info({ venue: 'ibkr' }, 'ibkr session authenticated');
    } else {
      log?.warn({ venue: 'ibkr', detail }, 'ibkr session lost');
    }
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

  async function tickle(): Promise<z.output<typeof tickleSchema> | null> {
    const parsed = tickleSchema.safeParse(await read('tickle', 'POST', '/tickle'));
    return parsed.success ? parsed.data : null;
  }

  let lastSession: string | null = null;
  async function keepAlive(): Promise<void> {
    const answer = await tickle();
    // Another `session` value is another login (the gateway restarted or someone logged in again):
    // it starts on the default account with nothing of ours cached.
    const renewed = lastSession !== null && answer?.session !== undefined && answer.session !== lastSession;
    if (answer?.session) lastSession = answer.session;
    if (renewed && up) {
      log?.info({ venue: 'ibkr' }, 'ibkr gateway session renewed');
      accountsQueried = false;
      epoch += 1;
      await queryAccounts();
    }
    const status = answer?.iserver?.authStatus;
    if (status && status.authenticated && up) return;
    await probe();
  }

  function schedule(): void {
    // A lost session is re-checked often; a live one only as often as it needs keeping alive.
    const every = up ? config.tickleMs : Math.min(config.tickleMs, config.pollMs);
    timer = setTimeout(() => {
      keepAlive().catch((err: unknown) => log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr tickle failed')).finally(() => { if (timer) schedule(); });
    }, every);
    timer.unref();
  }

  return {
    async start() {
      lastSession = (await tickle().catch(() => null))?.session ?? null;
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
    accountSelected(selected) {
      if (selected === config.accountId || !up) return;
      accountsQueried = false;
      queryAccounts().catch((err: unknown) => log?.warn({ venue: 'ibkr', code: (err as { code?: string }).code }, 'ibkr account switch failed'));
    },
    async sessionId() {
      const session = (await tickle())?.session;
      if (!session) throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr tickle: no session in the answer', { operation: 'tickle' });
      lastSession ??= session;
      return session;
    },
    epoch: () => epoch,
  };
}

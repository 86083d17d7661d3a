// The read side of the MT5 connector: which bridge orders are ours (magic + comment token; one client
// order may be carried by several bridge orders on a hedging account, hedging.ts), what the bridge says
// about them and their deals, and the poll that stands in for a push stream. Look-ups of orders whose
// tickets we know go by ticket; an order we never heard back about is searched for by its comment in
// open orders, then in history by time range, page by page ("Read history orders by time range":
// `offset`/`limit`, at most 1,000 rows an answer).
import type { Logger } from 'pino';
import type { VenueEvent } from '../venue.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error } from './errors.ts';
import type { Mt5Http } from './http.ts';
import { commentToken } from './ids.ts';
import { combinedState, dealAmendment, isOurs, parseDeals, parseOrder, parseOrders, type Mt5Deal, type Mt5Order, type Mt5OrderStateView } from './parse.ts';
import { fromVenue, toVenue } from './symbols.ts';

export interface Mt5Orders {
  /** Registers the cid's comment token (so polls can map it back) and returns it. */
  token(clientOrderId: string): string;
  remember(clientOrderId: string, ticket: string): void;
  /** A later leg of this order was refused: it ends with what the earlier legs did. */
  markShortfall(clientOrderId: string): void;
  lookup(clientOrderId: string, opts?: { searchHistory?: boolean }): Promise<Mt5OrderStateView | null>;
  /** The open order of a cid, if it is still open (for cancel). */
  openOrder(clientOrderId: string): Promise<Mt5Order | null>;
  openOrders(): Promise<Mt5OrderStateView[]>;
  /** One round of the poll: open orders, history orders and deals of the poll window. */
  poll(): Promise<void>;
  subscribe(listener: (event: VenueEvent) => void): () => void;
}

/** The bridge's largest page for history by time range. */
export const HISTORY_PAGE = 1_000;
const MAX_PAGES = 100;

const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

export function createMt5Orders(config: Mt5Config, http: Mt5Http, log: Logger | undefined, clock: () => number): Mt5Orders {
  const cidByToken = new Map<string, string>();
  const tickets = new Map<string, Set<string>>(); // cid → bridge order tickets
  const cidByTicket = new Map<string, string>();
  const shortfall = new Set<string>();
  const deals = new Map<string, Mt5Deal>(); // deal id → last statement seen
  const fingerprints = new Map<string, string>();
  const listeners = new Set<(event: VenueEvent) => void>();

  function emit(event: VenueEvent): void {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        log?.error({ err, venue: 'mt5' }, 'venue event listener threw');
      }
    }
  }

  function token(cid: string): string {
    const t = commentToken(cid);
    cidByToken.set(t, cid);
    return t;
  }

  function remember(cid: string, ticket: string): void {
    const set = tickets.get(cid) ?? new Set<string>();
    set.add(ticket);
    tickets.set(cid, set);
    cidByTicket.set(ticket, cid);
  }

  const read = async <T>(operation: string, path: string, cid: string | null, parse: (json: unknown) => T[] | null): Promise<T[]> => {
    const list = parse(await http.request({ operation, method: 'GET', path, clientOrderId: cid }));
    if (!list) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 ${operation}: unreadable answer`, { operation, clientOrderId: cid });
    return list;
  };
  /** Every page of a time-range history read: a full page means there may be more. */
  async function readPages<T>(operation: string, path: string, cid: string | null, parse: (json: unknown) => T[] | null): Promise<T[]> {
    const out: T[] = [];
    for (let pageNo = 0; pageNo < MAX_PAGES; pageNo++) {
      const raw = await http.request({ operation, method: 'GET', path: `${path}?offset=${pageNo * HISTORY_PAGE}&limit=${HISTORY_PAGE}`, clientOrderId: cid });
      if (!Array.isArray(raw)) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 ${operation}: unreadable answer`, { operation, clientOrderId: cid });
      out.push(...(parse(raw) ?? []));
      if (raw.length < HISTORY_PAGE) return out;
    }
    log?.warn({ venue: 'mt5', operation, pages: MAX_PAGES }, 'mt5 history longer than the page cap; the rest is read next round');
    return out;
  }
  const ordersAt = (operation: string, path: string, cid: string | null) => read(operation, path, cid, parseOrders);
  const dealsAt = async (operation: string, path: string, cid: string | null): Promise<Mt5Deal[]> => {
    const list = path.includes('/time/') ? await readPages(operation, path, cid, parseDeals) : await read(operation, path, cid, parseDeals);
    ingestDeals(list);
    return list;
  };
  const historyOrdersByTime = (from: number, to: number, cid: string | null) =>
    readPages('historyOrders', `/history-orders/time/${iso(from)}/${iso(to)}`, cid, parseOrders);

  const contractSizeOf = (symbol: string | undefined): number => {
    const canonical = symbol ? fromVenue(symbol, config.symbolSuffix) : null;
    return (canonical ? toVenue(canonical)?.contractSize : null) ?? 1;
  };

  /** Every statement of deals goes through here, so an amended deal is one correction (or bust). */
  function ingestDeals(list: Mt5Deal[]): void {
    for (const d of new Map(list.map((x) => [x.id, x])).values()) {
      const known = deals.get(d.id);
      deals.set(d.id, d);
      const cid = (d.orderId ? cidByTicket.get(d.orderId) : undefined) ?? cidByToken.get(d.comment);
      if (!cid || d.magic !== config.magic) continue;
      const amendment = dealAmendment(known, d, cid, contractSizeOf(d.symbol ?? known?.symbol), clock());
      if (amendment) emit(amendment);
    }
  }

  const oneOpen = async (cid: string, ticket: string): Promise<Mt5Order | null> =>
    parseOrder(await http.request({ operation: 'order', method: 'GET', path: `/orders/${encodeURIComponent(ticket)}`, clientOrderId: cid, notFoundIsNull: true }));

  async function openOrder(cid: string): Promise<Mt5Order | null> {
    const t = token(cid);
    const known = [...(tickets.get(cid) ?? [])];
    if (known.length > 0) {
      for (const ticket of known) {
        const one = await oneOpen(cid, ticket);
        if (one && isOurs(one, config.magic, t)) return one;
      }
      return null;
    }
    return (await ordersAt('openOrders', '/orders', cid)).find((o) => isOurs(o, config.magic, t)) ?? null;
  }

  /** Every bridge order of this cid: by ticket when known, else by comment in open orders and history. */
  async function findLegs(cid: string, searchHistory: boolean): Promise<Mt5Order[]> {
    const t = token(cid);
    const found = new Map<string, Mt5Order>();
    const known = [...(tickets.get(cid) ?? [])];
    if (known.length > 0 && !searchHistory) {
      for (const ticket of known) {
        const open = await oneOpen(cid, ticket);
        if (open && isOurs(open, config.magic, t)) { found.set(open.id, open); continue; }
        for (const o of await ordersAt('historyOrders', `/history-orders/ticket/${encodeURIComponent(ticket)}`, cid)) if (isOurs(o, config.magic, t)) found.set(o.id, o);
      }
      return [...found.values()];
    }
    const now = clock();
    const [open, history] = await Promise.all([
      ordersAt('openOrders', '/orders', cid),
      historyOrdersByTime(now - config.lookupWindowMs, now + 60_000, cid),
    ]);
    for (const o of [...history, ...open]) if (isOurs(o, config.magic, t)) found.set(o.id, o);
    return [...found.values()];
  }

  async function lookup(cid: string, opts: { searchHistory?: boolean } = {}): Promise<Mt5OrderStateView | null> {
    const legs = await findLegs(cid, opts.searchHistory ?? false);
    if (legs.length === 0) return null;
    const all: Mt5Deal[] = [];
    for (const o of legs) {
      remember(cid, o.id);
      // Deals by the order's ticket are its whole deal history: a missing deal is a bust.
      all.push(...await dealsAt('historyDeals', `/history-deals/ticket/${encodeURIComponent(o.id)}`, cid));
    }
    return combinedState(cid, legs, all, config.symbolSuffix, true, shortfall.has(cid));
  }

  function emitIfChanged(state: Mt5OrderStateView): void {
    const print = `${state.status}|${state.filledQty}|${state.fills.map((f) => `${f.tradeId}:${f.quantity}@${f.price}`).join(',')}`;
    if (fingerprints.get(state.clientOrderId) === print) return;
    fingerprints.set(state.clientOrderId, print);
    emit({ kind: 'order', order: state });
  }

  async function poll(): Promise<void> {
    const now = clock();
    const range = `${iso(now - config.pollWindowMs)}/${iso(now + 60_000)}`;
    const [open, history] = await Promise.all([
      ordersAt('openOrders', '/orders', null),
      readPages('historyOrders', `/history-orders/time/${range}`, null, parseOrders),
      dealsAt('historyDeals', `/history-deals/time/${range}`, null),
    ]);
    const byCid = new Map<string, Map<string, Mt5Order>>();
    for (const o of [...history, ...open]) {
      const cid = o.magic === config.magic ? cidByToken.get(o.comment) : undefined;
      if (!cid) continue; // not ours, or an order of ours this process has not been asked about yet
      remember(cid, o.id);
      byCid.set(cid, (byCid.get(cid) ?? new Map()).set(o.id, o));
    }
    // An order is stated only when the poll window holds every leg this process knows of.
    for (const [cid, legs] of byCid) {
      if ([...(tickets.get(cid) ?? [])].some((t) => !legs.has(t))) continue;
      emitIfChanged(combinedState(cid, [...legs.values()], [...deals.values()], config.symbolSuffix, false, shortfall.has(cid)));
    }
  }

  async function openOrders(): Promise<Mt5OrderStateView[]> {
    const open = (await ordersAt('openOrders', '/orders', null)).filter((o) => o.magic === config.magic && cidByToken.has(o.comment));
    const cids = [...new Set(open.map((o) => cidByToken.get(o.comment)!))];
    const out: Mt5OrderStateView[] = [];
    for (const cid of cids) {
      const mine = open.filter((o) => cidByToken.get(o.comment) === cid);
      for (const o of mine) remember(cid, o.id);
      if ((tickets.get(cid)?.size ?? 0) > mine.length) {
        const s = await lookup(cid); // legs that are no longer open belong in the statement too
        if (s) out.push(s);
        continue;
      }
      const list: Mt5Deal[] = [];
      for (const o of mine) list.push(...await dealsAt('historyDeals', `/history-deals/ticket/${encodeURIComponent(o.id)}`, cid));
      out.push(combinedState(cid, mine, list, config.symbolSuffix, true, shortfall.has(cid)));
    }
    return out;
  }

  return {
    token, remember, lookup, openOrder, openOrders, poll,
    markShortfall(cid) { shortfall.add(cid); },
    subscribe(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
  };
}

// The read side of the MT5 connector: which bridge order is ours (magic + comment token), what the
// bridge says about it and its deals, and the poll that stands in for a push stream. Look-ups of an
// order whose ticket we know go by ticket; only an order we never heard back about is searched for by
// its comment in open orders, then in history.
import type { Logger } from 'pino';
import type { VenueEvent } from '../venue.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error } from './errors.ts';
import type { Mt5Http } from './http.ts';
import { commentToken } from './ids.ts';
import { dealAmendment, isOurs, orderState, parseDeals, parseOrder, parseOrders, type Mt5Deal, type Mt5Order, type Mt5OrderStateView } from './parse.ts';
import { fromVenue, toVenue } from './symbols.ts';

export interface Mt5Orders {
  /** Registers the cid's comment token (so polls can map it back) and returns it. */
  token(clientOrderId: string): string;
  remember(clientOrderId: string, ticket: string): void;
  lookup(clientOrderId: string): Promise<Mt5OrderStateView | null>;
  /** The open order of a cid, if it is still open (for cancel). */
  openOrder(clientOrderId: string): Promise<Mt5Order | null>;
  openOrders(): Promise<Mt5OrderStateView[]>;
  /** One round of the poll: open orders, history orders and deals of the poll window. */
  poll(): Promise<void>;
  subscribe(listener: (event: VenueEvent) => void): () => void;
}

const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

export function createMt5Orders(config: Mt5Config, http: Mt5Http, log: Logger | undefined, clock: () => number): Mt5Orders {
  const cidByToken = new Map<string, string>();
  const tickets = new Map<string, string>(); // cid → order ticket
  const cidByTicket = new Map<string, string>();
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
    tickets.set(cid, ticket);
    cidByTicket.set(ticket, cid);
  }

  const ordersAt = async (operation: string, path: string, cid: string | null): Promise<Mt5Order[]> => {
    const list = parseOrders(await http.request({ operation, method: 'GET', path, clientOrderId: cid }));
    if (!list) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 ${operation}: unreadable answer`, { operation, clientOrderId: cid });
    return list;
  };
  const dealsAt = async (operation: string, path: string, cid: string | null): Promise<Mt5Deal[]> => {
    const list = parseDeals(await http.request({ operation, method: 'GET', path, clientOrderId: cid }));
    if (!list) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 ${operation}: unreadable answer`, { operation, clientOrderId: cid });
    ingestDeals(list);
    return list;
  };

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

  async function openOrder(cid: string): Promise<Mt5Order | null> {
    const t = token(cid);
    const ticket = tickets.get(cid);
    if (ticket) {
      const one = parseOrder(await http.request({ operation: 'order', method: 'GET', path: `/orders/${encodeURIComponent(ticket)}`, clientOrderId: cid, notFoundIsNull: true }));
      return one && isOurs(one, config.magic, t) ? one : null;
    }
    return (await ordersAt('openOrders', '/orders', cid)).find((o) => isOurs(o, config.magic, t)) ?? null;
  }

  async function findOrder(cid: string): Promise<Mt5Order | null> {
    const open = await openOrder(cid);
    if (open) return open;
    const t = token(cid);
    const ticket = tickets.get(cid);
    const now = Date.now();
    const history = ticket
      ? await ordersAt('historyOrders', `/history-orders/ticket/${encodeURIComponent(ticket)}`, cid)
      : await ordersAt('historyOrders', `/history-orders/time/${iso(now - config.lookupWindowMs)}/${iso(now + 60_000)}`, cid);
    // The latest one if ever two carried the token (a manual copy of an order keeps its comment).
    return history.filter((o) => isOurs(o, config.magic, t)).sort((a, b) => b.time - a.time)[0] ?? null;
  }

  async function lookup(cid: string): Promise<Mt5OrderStateView | null> {
    const order = await findOrder(cid);
    if (!order) return null;
    remember(cid, order.id);
    // Deals by the order's ticket are its whole deal history: a missing deal is a bust.
    const list = await dealsAt('historyDeals', `/history-deals/ticket/${encodeURIComponent(order.id)}`, cid);
    return orderState(cid, order, list, config.symbolSuffix, true);
  }

  function emitIfChanged(state: Mt5OrderStateView): void {
    const print = `${state.status}|${state.filledQty}|${state.fills.map((f) => `${f.tradeId}:${f.quantity}@${f.price}`).join(',')}`;
    if (fingerprints.get(state.clientOrderId) === print) return;
    fingerprints.set(state.clientOrderId, print);
    emit({ kind: 'order', order: state });
  }

  async function poll(): Promise<void> {
    const now = Date.now();
    const range = `${iso(now - config.pollWindowMs)}/${iso(now + 60_000)}`;
    const [open, history] = await Promise.all([
      ordersAt('openOrders', '/orders', null),
      ordersAt('historyOrders', `/history-orders/time/${range}`, null),
      dealsAt('historyDeals', `/history-deals/time/${range}`, null),
    ]);
    for (const o of [...history, ...open]) {
      const cid = o.magic === config.magic ? cidByToken.get(o.comment) : undefined;
      if (!cid) continue; // not ours, or an order of ours this process has not been asked about yet
      remember(cid, o.id);
      emitIfChanged(orderState(cid, o, [...deals.values()], config.symbolSuffix, false));
    }
  }

  async function openOrders(): Promise<Mt5OrderStateView[]> {
    const open = (await ordersAt('openOrders', '/orders', null)).filter((o) => o.magic === config.magic && cidByToken.has(o.comment));
    return Promise.all(open.map(async (o) => {
      const cid = cidByToken.get(o.comment)!;
      remember(cid, o.id);
      const list = await dealsAt('historyDeals', `/history-deals/ticket/${encodeURIComponent(o.id)}`, cid);
      return orderState(cid, o, list, config.symbolSuffix, true);
    }));
  }

  return {
    token, remember, lookup, openOrder, openOrders, poll,
    subscribe(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
  };
}

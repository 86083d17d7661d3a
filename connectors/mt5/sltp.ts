// A bracket's exits as the stop-loss and take-profit of the position their entry opened, on a hedging
// account (MetaApi trade action POSITION_MODIFY {positionId, stopLoss, takeProfit}; MQL5 TRADE_ACTION_SLTP).
// There a pending exit cannot close a position (it would open one of its own beside it), so the
// position's own levels are the only exits the account has; on a netting account pending orders reduce
// the one position and the pair stays two orders. The levels belong to the position, not to an order:
// - a pair is native only when the entry's position (hedging: one per entry, its comment the entry's
//   token) is open, exactly the pair's size and without levels of another pair;
// - each leg's venue id is `sltp:<positionId>:sl|tp` (on `executions` with its ACK), so a restarted
//   process finds it again; a leg is working while its level is on the position, shrinks with the
//   position, ends FILLED by the closing deals of its reason (DEAL_REASON_SL / _TP: the server's own
//   order and deal, with no comment of ours) and CANCELED when the position closed otherwise or the level
//   was removed; while the position is gone and no closing deal is listed yet (the terminal's sync lag)
//   nothing is concluded;
// - setting the same levels again changes nothing (10025 "no changes" counts as done), so a pair whose
//   answer was lost is looked up on the position and, if absent, simply set again.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Side } from '../../schemas/types.ts';
import type { VenueEvent, VenueOrderState } from '../venue.ts';
import type { OcoLegs } from '../venueCapabilities.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error } from './errors.ts';
import type { Mt5Http } from './http.ts';
import { parseDeals, type MarginMode } from './parse.ts';
import { fromLots, toVenue } from './symbols.ts';

type Role = 'sl' | 'tp';
/**
 * `side` and `quantity` are null for a leg known only by its venue id (after a restart): read from the
 * venue. `placedAt`: when this process set the levels (a read just after may not show them yet).
 */
interface Leg { cid: string; positionId: string; role: Role; symbol: string; side: Side | null; quantity: number | null; placedAt: number | null }

/** A level missing this soon after we set it is the terminal's sync lag, not a removal. */
const SETTLE_MS = 10_000;

const positionSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String), type: z.string(), symbol: z.string(), magic: z.number().int().default(0),
  volume: z.number(), comment: z.string().default(''), stopLoss: z.number().optional(), takeProfit: z.number().optional(),
}).passthrough();
type Position = z.output<typeof positionSchema>;

const VENUE_ID = /^sltp:(.+):(sl|tp)$/;
const venueIdOf = (positionId: string, role: Role) => `sltp:${positionId}:${role}`;
const EPS = 1e-9;

export interface Mt5SltpDeps {
  config: Mt5Config;
  http: Mt5Http;
  clock: () => number;
  log?: Logger;
  margin: () => MarginMode | null;
  /** The comment token an order of ours carries (ids.ts). */
  token: (clientOrderId: string) => string;
  /** One trade request; throws on a failed return code (errors.ts). */
  trade: (operation: string, cid: string, body: Record<string, unknown>) => Promise<unknown>;
  /** An order of ours as the bridge reports it (the entry of a pair). */
  entryState: (clientOrderId: string) => Promise<VenueOrderState | null>;
}

export type Mt5Sltp = ReturnType<typeof createMt5Sltp>;

export function createMt5Sltp(d: Mt5SltpDeps) {
  const legs = new Map<string, Leg>(); // by clientOrderId
  const fingerprints = new Map<string, string>();
  const listeners = new Set<(event: VenueEvent) => void>();

  const qtyOf = (symbol: string, lots: number) => fromLots(lots, { contractSize: toVenue(symbol, d.config.symbolSuffix)?.contractSize ?? 1 });
  const closingSide = (p: Position): Side => (p.type === 'POSITION_TYPE_BUY' ? 'SELL' : 'BUY');
  const refuse = (cid: string, venueCode: string, why: string) =>
    new Mt5Error('VENUE_REJECTED', `mt5 submitOco ${cid}: ${why}`, { operation: 'submitOco', clientOrderId: cid, venueCode });

  /** A hedging account, a LIMIT take-profit and a STOP stop-loss (the position's levels have no other form), GTC. */
  function supported(l: OcoLegs): boolean {
    const { takeProfit: tp, stopLoss: sl } = l;
    return d.margin() === 'HEDGING' && !!l.entryClientOrderId && tp.orderType === 'LIMIT' && sl.orderType === 'STOP'
      && tp.timeInForce === 'GTC' && sl.timeInForce === 'GTC' && tp.limitPrice != null && sl.stopPrice != null
      && tp.symbol === sl.symbol && tp.side === sl.side && tp.quantity === sl.quantity && toVenue(tp.symbol) !== null;
  }

  async function readPosition(positionId: string, cid: string): Promise<Position | null> {
    const json = await d.http.request({ operation: 'position', method: 'GET', path: `/positions/${encodeURIComponent(positionId)}`, clientOrderId: cid, notFoundIsNull: true });
    if (json === null) return null;
    const p = positionSchema.safeParse(json);
    if (!p.success) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 position ${cid}: unreadable answer`, { operation: 'position', clientOrderId: cid });
    return p.data;
  }

  /** Our open positions (our magic). */
  async function openPositions(): Promise<Position[]> {
    const json = await d.http.request({ operation: 'positions', method: 'GET', path: '/positions' });
    if (!Array.isArray(json)) throw new Mt5Error('VENUE_BAD_RESPONSE', 'mt5 positions: unreadable answer', { operation: 'positions' });
    return json.flatMap((row) => { const p = positionSchema.safeParse(row); return p.success ? [p.data] : []; }).filter((p) => p.magic === d.config.magic);
  }

  /** The open positions the entry opened (its comment token). */
  async function entryPositions(l: OcoLegs): Promise<Position[]> {
    const token = d.token(l.entryClientOrderId!);
    return (await openPositions()).filter((p) => p.comment === token);
  }

  function remember(l: OcoLegs, positionId: string): Leg[] {
    return ([['tp', l.takeProfit], ['sl', l.stopLoss]] as const).map(([role, r]) => {
      const leg: Leg = { cid: r.clientOrderId, positionId, role, symbol: r.symbol, side: r.side, quantity: r.quantity, placedAt: d.clock() };
      legs.set(r.clientOrderId, leg);
      return leg;
    });
  }

  const state = (leg: Leg, side: Side, s: Pick<VenueOrderState, 'status' | 'quantity' | 'filledQty' | 'fills'>): VenueOrderState => ({
    clientOrderId: leg.cid, venueOrderId: venueIdOf(leg.positionId, leg.role), symbol: leg.symbol, side,
    rejectReason: null, venueTime: s.fills.at(-1)?.venueTime ?? d.clock(), nativeOco: true, ...s,
  });

  /**
   * What the position says of one leg now; null when it cannot tell (known by venue id only, closed, no
   * closing deal listed yet). `open`: our open positions read once for several legs (the poll).
   */
  async function legState(leg: Leg, open?: ReadonlyMap<string, Position>): Promise<VenueOrderState | null> {
    const p = open === undefined ? await readPosition(leg.positionId, leg.cid) : open.get(leg.positionId) ?? null;
    if (p !== null) {
      const level = leg.role === 'sl' ? p.stopLoss : p.takeProfit;
      const held = qtyOf(leg.symbol, p.volume);
      const settling = leg.placedAt !== null && d.clock() - leg.placedAt < SETTLE_MS;
      return state(leg, leg.side ?? closingSide(p), { status: level || settling ? 'NEW' : 'CANCELED', quantity: Math.min(leg.quantity ?? held, held), filledQty: 0, fills: [] });
    }
    const json = await d.http.request({ operation: 'positionDeals', method: 'GET', path: `/history-deals/position/${encodeURIComponent(leg.positionId)}`, clientOrderId: leg.cid });
    const deals = parseDeals(json);
    if (!deals) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 position deals ${leg.cid}: unreadable answer`, { operation: 'positionDeals', clientOrderId: leg.cid });
    const closing = deals.filter((x) => x.entryType === 'DEAL_ENTRY_OUT' || x.entryType === 'DEAL_ENTRY_OUT_BY');
    if (closing.length === 0) {
      // Gone from the positions, its closing deal not listed yet: still working as far as we can tell.
      return leg.side === null || leg.quantity === null ? null : state(leg, leg.side, { status: 'NEW', quantity: leg.quantity, filledQty: 0, fills: [] });
    }
    const side: Side = leg.side ?? (closing[0].type === 'DEAL_TYPE_BUY' ? 'BUY' : 'SELL');
    const reason = leg.role === 'sl' ? 'DEAL_REASON_SL' : 'DEAL_REASON_TP';
    const fills = closing.filter((x) => x.reason === reason)
      .map((x) => ({ tradeId: x.id, quantity: qtyOf(leg.symbol, x.volume), price: x.price, fee: Math.abs(x.commission), venueTime: x.time }));
    const filledQty = Math.round(fills.reduce((sum, f) => sum + f.quantity, 0) * 1e8) / 1e8;
    return filledQty > EPS
      ? state(leg, side, { status: 'FILLED', quantity: Math.min(leg.quantity ?? filledQty, filledQty), filledQty, fills })
      : state(leg, side, { status: 'CANCELED', quantity: leg.quantity ?? 0, filledQty: 0, fills: [] });
  }

  /** A leg of ours from this process's memory or by its venue id (after a restart); null if not a leg. */
  function legOf(cid: string, symbol: string | undefined, venueOrderId?: string | null): Leg | null {
    const known = legs.get(cid);
    if (known) return known;
    const m = venueOrderId ? VENUE_ID.exec(venueOrderId) : null;
    if (m === null || symbol === undefined) return null;
    const leg: Leg = { cid, positionId: m[1], role: m[2] as Role, symbol, side: null, quantity: null, placedAt: null };
    legs.set(cid, leg);
    return leg;
  }

  /** Both legs on the entry's position: found when its levels are ours, or when they closed it. */
  async function lookupPair(l: OcoLegs): Promise<{ takeProfit: VenueOrderState | null; stopLoss: VenueOrderState | null }> {
    const known = legs.get(l.takeProfit.clientOrderId);
    if (known) {
      const [takeProfit, stopLoss] = await Promise.all([legState(known), legState(legs.get(l.stopLoss.clientOrderId) ?? { ...known, cid: l.stopLoss.clientOrderId, role: 'sl' })]);
      return { takeProfit, stopLoss };
    }
    const want = { stopLoss: l.stopLoss.stopPrice ?? 0, takeProfit: l.takeProfit.limitPrice ?? 0 };
    const p = (await entryPositions(l)).find((x) => x.stopLoss === want.stopLoss && x.takeProfit === want.takeProfit);
    if (p === undefined) return { takeProfit: null, stopLoss: null };
    const [tp, sl] = remember(l, p.id);
    const [takeProfit, stopLoss] = await Promise.all([legState(tp), legState(sl)]);
    return { takeProfit, stopLoss };
  }

  /**
   * Sets the pair as the levels of the entry's position; refused (nothing set) when no position fits, or
   * while the entry still fills (its later fills would grow the position past this pair).
   */
  async function place(l: OcoLegs): Promise<{ takeProfit: VenueOrderState; stopLoss: VenueOrderState }> {
    const cid = l.takeProfit.clientOrderId;
    const entry = await d.entryState(l.entryClientOrderId!);
    if (entry?.status !== 'FILLED') throw refuse(cid, 'SLTP_ENTRY_OPEN', `the entry is ${entry?.status ?? 'not found'}, not filled: its position may still grow`);
    const open = await entryPositions(l);
    if (open.length !== 1) throw refuse(cid, 'SLTP_NO_POSITION', `the entry has ${open.length} open positions, not one, to carry the exits`);
    const p = open[0];
    if (qtyOf(l.takeProfit.symbol, p.volume) !== l.takeProfit.quantity || closingSide(p) !== l.takeProfit.side) {
      throw refuse(cid, 'SLTP_SIZE', `the entry's position is ${p.volume} lots ${p.type}, not what the exits close`);
    }
    const want = { stopLoss: l.stopLoss.stopPrice ?? 0, takeProfit: l.takeProfit.limitPrice ?? 0 };
    if ((p.stopLoss || p.takeProfit) && (p.stopLoss !== want.stopLoss || p.takeProfit !== want.takeProfit)) {
      throw refuse(cid, 'SLTP_TAKEN', 'the entry\'s position carries other levels already');
    }
    await d.trade('submitOco', cid, { actionType: 'POSITION_MODIFY', positionId: p.id, ...want });
    const [tp, sl] = remember(l, p.id);
    const opened = (leg: Leg) => state(leg, leg.side!, { status: 'NEW', quantity: leg.quantity!, filledQty: 0, fills: [] });
    return { takeProfit: opened(tp), stopLoss: opened(sl) };
  }

  /** Removes one leg's level (0 = none, MQL5), the other kept; then what the position says of the leg. */
  async function cancel(leg: Leg): Promise<VenueOrderState | null> {
    const p = await readPosition(leg.positionId, leg.cid);
    if (p !== null && (leg.role === 'sl' ? p.stopLoss : p.takeProfit)) {
      const body = { actionType: 'POSITION_MODIFY', positionId: p.id, stopLoss: leg.role === 'sl' ? 0 : p.stopLoss ?? 0, takeProfit: leg.role === 'tp' ? 0 : p.takeProfit ?? 0 };
      try {
        await d.trade('cancel', leg.cid, body);
        leg.placedAt = null; // a level missing from now on is our removal, not the terminal's lag
      } catch (err) {
        // Closed meanwhile (SL or TP hit): the leg's final state below is the answer.
        if (!(err instanceof Mt5Error) || err.code !== 'VENUE_REJECTED') throw err;
      }
    }
    return legState(leg);
  }

  function emitIfChanged(s: VenueOrderState): void {
    const print = `${s.status}|${s.quantity}|${s.filledQty}|${s.fills.map((f) => f.tradeId).join(',')}`;
    if (fingerprints.get(s.clientOrderId) === print) return;
    fingerprints.set(s.clientOrderId, print);
    for (const listener of listeners) {
      try { listener({ kind: 'order', order: s }); } catch (err) { d.log?.error({ err, venue: 'mt5' }, 'venue event listener threw'); }
    }
  }

  /** One round behind the poll: every leg still working, read from one read of our positions (and a closed one's deals). */
  async function poll(): Promise<void> {
    if (legs.size === 0) return;
    const open = new Map((await openPositions()).map((p) => [p.id, p]));
    for (const leg of [...legs.values()]) {
      const s = await legState(leg, open);
      if (s === null) continue;
      emitIfChanged(s);
      if (s.status !== 'NEW') legs.delete(leg.cid);
    }
  }

  return {
    supported, place, lookupPair, cancel, legState, legOf, poll,
    subscribe(listener: (event: VenueEvent) => void): () => void {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
  };
}

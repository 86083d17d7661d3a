// What a twin on `orders-shadow` carries beside the Avro Order: the model's estimates and the live
// order it shadows. Headers, so the Order schema stays the one `orders` uses.
import type { IHeaders } from 'kafkajs';
import type { ShadowTwin } from './twin.ts';

export interface ShadowMeta {
  liveOrderId: string;
  liveVenue: string;
  liveQuantity: number | null;
  estimatedBps: number | null;
  feeBps: number | null;
  liveEstimatedBps: number | null;
}

export function shadowHeaders(t: ShadowTwin): IHeaders {
  return {
    'shadow-of': t.liveOrderId,
    'shadow-live-venue': t.liveVenue,
    'shadow-live-quantity': String(t.liveQuantity),
    'shadow-estimated-bps': String(t.estimatedBps),
    'shadow-fee-bps': String(t.feeBps),
    ...(t.liveEstimatedBps === null ? {} : { 'shadow-live-estimated-bps': String(t.liveEstimatedBps) }),
  };
}

const text = (h: IHeaders | undefined, k: string): string | null => {
  const v = h?.[k];
  if (v === undefined) return null;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? null : one.toString();
};
const num = (h: IHeaders | undefined, k: string): number | null => {
  const v = text(h, k);
  return v === null || !Number.isFinite(Number(v)) ? null : Number(v);
};

export function readShadowMeta(h: IHeaders | undefined): ShadowMeta | null {
  const liveOrderId = text(h, 'shadow-of');
  if (liveOrderId === null) return null;
  return {
    liveOrderId, liveVenue: text(h, 'shadow-live-venue') ?? '', liveQuantity: num(h, 'shadow-live-quantity'),
    estimatedBps: num(h, 'shadow-estimated-bps'), feeBps: num(h, 'shadow-fee-bps'), liveEstimatedBps: num(h, 'shadow-live-estimated-bps'),
  };
}

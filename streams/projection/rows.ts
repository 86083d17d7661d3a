// ExecutionReport <-> `executions` row. Pure; the projection and the audit rebuild share it.
import type { ExecutionReport } from '../../schemas/types.ts';

export const EXECUTION_COLUMNS = [
  'execution_id', 'kafka_partition', 'kafka_offset', 'type', 'order_id', 'client_order_id', 'venue_order_id',
  'venue_trade_id', 'signal_id', 'account_id', 'strategy', 'symbol', 'venue', 'side', 'last_qty', 'last_price',
  'cum_qty', 'leaves_qty', 'fee', 'ref_execution_id', 'reason', 'venue_time', 'recorded_at', 'hlc',
  'fee_asset', 'fee_in_asset', 'net_qty',
] as const;

export function executionValues(e: ExecutionReport, partition: number, offset: string): unknown[] {
  return [
    e.executionId, partition, offset, e.type, e.orderId, e.clientOrderId, e.venueOrderId, e.venueTradeId, e.signalId,
    e.account, e.strategy, e.symbol, e.venue, e.side, e.lastQty, e.lastPrice, e.cumQty, e.leavesQty, e.fee,
    e.refExecutionId, e.reason, e.venueTime === null ? null : new Date(e.venueTime), new Date(e.recordedAt), e.hlc,
    e.feeAsset ?? null, e.feeInAsset ?? null, e.netQty ?? null,
  ];
}

export interface ExecutionRow {
  execution_id: string; type: ExecutionReport['type']; order_id: string; client_order_id: string;
  venue_order_id: string | null; venue_trade_id: string | null; signal_id: string; account_id: string; strategy: string;
  symbol: string; venue: string; side: ExecutionReport['side']; last_qty: number; last_price: number; cum_qty: number;
  leaves_qty: number; fee: number; ref_execution_id: string | null; reason: string | null; venue_time: Date | null;
  recorded_at: Date; hlc: string; fee_asset: string | null; fee_in_asset: number | null; net_qty: number | null;
}

export const fromExecutionRow = (r: ExecutionRow): ExecutionReport => ({
  executionId: r.execution_id, type: r.type, orderId: r.order_id, clientOrderId: r.client_order_id,
  venueOrderId: r.venue_order_id, venueTradeId: r.venue_trade_id, signalId: r.signal_id, account: r.account_id,
  strategy: r.strategy, symbol: r.symbol, venue: r.venue, side: r.side, lastQty: r.last_qty, lastPrice: r.last_price,
  cumQty: r.cum_qty, leavesQty: r.leaves_qty, fee: r.fee, refExecutionId: r.ref_execution_id, reason: r.reason,
  venueTime: r.venue_time === null ? null : r.venue_time.getTime(), recordedAt: r.recorded_at.getTime(), hlc: Number(r.hlc),
  feeAsset: r.fee_asset ?? null, feeInAsset: r.fee_in_asset ?? null, netQty: r.net_qty ?? null,
});

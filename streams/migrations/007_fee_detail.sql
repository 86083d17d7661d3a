-- The fee as the venue charged it, and the quantity the holding moved by when the venue took its fee
-- from the asset received (ExecutionReport.feeAsset / feeInAsset / netQty; null for every venue that does
-- not say, and for rows written before). The position fold counts net_qty when it is set.
ALTER TABLE executions
  ADD COLUMN fee_asset text,
  ADD COLUMN fee_in_asset double precision,
  ADD COLUMN net_qty double precision;

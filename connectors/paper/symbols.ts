// What the paper venue lists and in which units. Every venue folder has a symbols.ts with the same two
// mapping functions; the paper venue happens to use canonical symbols, so they are the identity.
// The order book counts in integer ticks and lots so that matching never accumulates float error;
// the conversions between those and prices/quantities live here, in one place.

export function toVenue(symbol: string): string {
  return symbol;
}

export function fromVenue(symbol: string): string {
  return symbol;
}

export interface InstrumentUnits {
  /** Integer ticks for a price, or null when the price is not on the tick grid. */
  toTicks(price: number): number | null;
  toPrice(ticks: number): number;
  /** Integer lots for a quantity, or null when the quantity is not a whole number of lots. */
  toLots(quantity: number): number | null;
  toQuantity(lots: number): number;
  /** Nearest tick at or below / at or above a price (for the market maker's quotes). */
  floorTicks(price: number): number;
  ceilTicks(price: number): number;
}

// Tolerance for "is on the grid": prices arrive as decimal strings turned into binary floats.
const GRID_EPSILON = 1e-7;

function decimalsOf(step: number): number {
  for (let d = 0; d <= 12; d += 1) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 12;
}

function onGrid(value: number, step: number): number | null {
  const units = value / step;
  const rounded = Math.round(units);
  return Math.abs(units - rounded) < GRID_EPSILON * Math.max(1, Math.abs(units)) ? rounded : null;
}

export function instrumentUnits(tickSize: number, lotSize: number): InstrumentUnits {
  const priceDecimals = decimalsOf(tickSize);
  const qtyDecimals = decimalsOf(lotSize);
  return {
    toTicks: (price) => onGrid(price, tickSize),
    toPrice: (ticks) => Number((ticks * tickSize).toFixed(priceDecimals)),
    toLots: (quantity) => onGrid(quantity, lotSize),
    toQuantity: (lots) => Number((lots * lotSize).toFixed(qtyDecimals)),
    floorTicks: (price) => Math.floor(price / tickSize + GRID_EPSILON),
    ceilTicks: (price) => Math.ceil(price / tickSize - GRID_EPSILON),
  };
}

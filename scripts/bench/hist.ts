// Latency histograms (HDR, microsecond resolution) and the summary shape every benchmark reports.
import hdr from 'hdr-histogram-js';

export interface LatencySummary { count: number; p50ms: number; p99ms: number; maxms: number }

export function createLatencyHistogram() {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  return {
    /** Records a latency given in milliseconds (fractions kept down to the microsecond). */
    recordMs(ms: number) { h.recordValue(Math.max(1, Math.round(ms * 1000))); },
    summary(): LatencySummary {
      const ms = (us: number) => Math.round(us) / 1000;
      return { count: h.totalCount, p50ms: ms(h.getValueAtPercentile(50)), p99ms: ms(h.getValueAtPercentile(99)), maxms: ms(h.maxValue) };
    },
  };
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one machine. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

/** Fires `fn(i)` at a fixed rate for `count` ticks without drifting (catches up if a tick was late). */
export async function atFixedRate(ratePerSec: number, count: number, fn: (i: number) => void): Promise<void> {
  const start = performance.now();
  const interval = 1000 / ratePerSec;
  let i = 0;
  while (i < count) {
    const due = Math.floor((performance.now() - start) / interval) + 1;
    while (i < Math.min(due, count)) fn(i++);
    const next = start + i * interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
}

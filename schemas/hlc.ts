// Hybrid logical clock: monotonic even when the wall clock steps back, close to wall time, and
// mergeable with a timestamp seen on an incoming record. Encoded as ms * 1000 + counter so it fits a
// JS number exactly (epoch ms ~ 2^41, times 1000 < 2^53) and an Avro long.
export const HLC_SCALE = 1000;

export interface Hlc { now(): number; observe(remote: number): number }

export function createHlc(clock: () => number = Date.now): Hlc {
  let last = 0;
  const next = (floor: number) => {
    const wall = clock() * HLC_SCALE;
    last = Math.max(wall, floor + 1);
    return last;
  };
  return {
    now: () => next(last),
    observe: (remote: number) => next(Math.max(last, remote)),
  };
}

export const hlcToMillis = (hlc: number): number => Math.floor(hlc / HLC_SCALE);

// kafkajs 2.2.4 schedules its request queue's next check with `throttledUntil - Date.now()` even when no
// broker throttles it (throttledUntil is -1), so it calls setTimeout with about -1.8e12 ms. Node runs that
// after 1 ms, as it always did, but since Node 23 also prints a TimeoutNegativeWarning, once per process:
// noise at the top of every command's output that says nothing about this project. This drops that one
// warning and hands every other warning to Node's own printer (none with --no-warnings).
const printers = process.listeners('warning');

export function quietKafkajsTimeoutWarning(): void {
  if (process.listeners('warning').includes(onWarning)) return;
  for (const p of printers) process.removeListener('warning', p);
  process.on('warning', onWarning);
}

function onWarning(w: Error): void {
  if (w.name === 'TimeoutNegativeWarning') return;
  for (const p of printers) p.call(process, w);
}

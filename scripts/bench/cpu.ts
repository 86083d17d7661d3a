// CPU time by process from /proc (Linux): where the machine's cores go during a run, per alert.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond = 0;
function ticks(): number {
  if (ticksPerSecond === 0) {
    try { ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { ticksPerSecond = 100; }
  }
  return ticksPerSecond;
}

/** utime + stime of one process in ms, or null when it is gone (or not Linux). */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
    return ((Number(fields[11]) + Number(fields[12])) / ticks()) * 1000; // utime, stime
  } catch {
    return null;
  }
}

/** Every process whose command name is `comm` (e.g. the Postgres server and its backends). */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try { if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d)); } catch { /* exited */ }
    }
  } catch { /* not Linux */ }
  return out;
}

/** The pid in a pid file, if it names a running process. */
export function pidFrom(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && processCpuMs(pid) !== null ? pid : null;
  } catch {
    return null;
  }
}

/** Busy and total ms of all cores since boot (/proc/stat). */
function machineMs(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = cpu[3] + (cpu[4] ?? 0); // idle + iowait
    return { busy: ((total - idle) / ticks()) * 1000, total: (total / ticks()) * 1000 };
  } catch {
    return null;
  }
}

export interface CpuUse {
  /** CPU ms spent per accepted alert, by process group. */
  msPerAlert: Record<string, number>;
  /** Share of all cores busy during the run (everything on the machine), 0..1. */
  machineBusy: number | null;
}

/** Snapshot CPU now; `done(alerts)` gives the use since, per alert. `groups` are re-read at both ends. */
export function cpuMeter(groups: () => Record<string, number[]>) {
  const read = () => Object.fromEntries(Object.entries(groups()).map(([k, pids]) => [k, pids.reduce((a, p) => a + (processCpuMs(p) ?? 0), 0)]));
  const before = read();
  const m0 = machineMs();
  return {
    done(alerts: number): CpuUse {
      const after = read();
      const m1 = machineMs();
      const msPerAlert: Record<string, number> = {};
      for (const [k, v] of Object.entries(after)) if (before[k] !== undefined && alerts > 0) msPerAlert[k] = Math.round(((v - before[k]) / alerts) * 1000) / 1000;
      const machineBusy = m0 && m1 && m1.total > m0.total ? Math.round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 1000) / 1000 : null;
      return { msPerAlert, machineBusy };
    },
  };
}

/**
 * Resident memory of one process in MB from one read of its status, or null when it is gone: `rss`
 * (VmRSS: everything resident, the executable's and libraries' pages shared with other processes
 * included) and `anon` (RssAnon: its own heap and stacks).
 */
export function processMemoryMb(pid: number): { rss: number; anon: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024);
    return { rss: mb('VmRSS'), anon: mb('RssAnon') };
  } catch {
    return null;
  }
}

/** Resident memory by process group, MB: all of it (`rssMb`) and the processes' own (`rssAnonMb`). */
export function memoryOf(groups: Record<string, number[]>): { rssMb: Record<string, number>; rssAnonMb: Record<string, number> } {
  const rssMb: Record<string, number> = {}, rssAnonMb: Record<string, number> = {};
  for (const [k, pids] of Object.entries(groups)) {
    const m = pids.map(processMemoryMb);
    rssMb[k] = m.reduce((a, x) => a + (x?.rss ?? 0), 0);
    rssAnonMb[k] = m.reduce((a, x) => a + (x?.anon ?? 0), 0);
  }
  return { rssMb, rssAnonMb };
}

/**
 * The process listening on a loopback TCP port (the broker, the registry), found from /proc whoever
 * started it: the socket's inode in /proc/net/tcp{,6}, then the process holding that socket.
 */
export function pidListeningOn(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[] = [];
    try { fds = readdirSync(`/proc/${d}/fd`); } catch { continue; }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(d);
      } catch { /* closed meanwhile */ }
    }
  }
  return null;
}

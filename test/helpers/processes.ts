// Pipeline components as child processes, so a test can SIGKILL one at any instant and restart it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { teeToTestLog } from './testLogs.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Child { proc: ChildProcess; output: () => string; exited: Promise<number | null> }

export function spawnComponent(components: string, env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', 'start', '--only', components], {
    cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  teeToTestLog(proc, components);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, output: () => out, exited };
}

export async function kill(child: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill(signal);
  await child.exited;
}

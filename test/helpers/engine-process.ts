/** Runs `chronus start` as a real process on a temp root (config + a copy of the plugins), on a free port. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { breadcrumbFile, carryFile } from '../../cli/supervisor.ts';
import { PROJECT_ROOT, writeTestConfig } from './offline-engine.ts';

export interface EngineProcess {
  root: string;
  port: number;
  proc: ChildProcess;
  output: string[];
  stop(): Promise<void>;
  /** SIGKILL for the supervisor and the engine under it at once: nothing gets to clean up or start again. */
  killHard(): Promise<void>;
}

/** The engine process under supervisor `pid` (cli/supervisor.ts runs one at a time). */
export function engineUnder(pid: number): number {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  const pids = out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  if (pids.length !== 1) throw new Error(`expected one engine under the supervisor ${pid}, found: ${out}`);
  return pids[0];
}

export async function makeRoot(pluginsFrom = path.join(PROJECT_ROOT, 'plugins')): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-e2e-'));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await cp(pluginsFrom, path.join(root, 'plugins'), { recursive: true });
  return root;
}

/** `nodeArgs`: Node options for the supervisor, which passes them on to the engine (benches trying V8 flags). */
export async function startEngineProcess(options: { root?: string; env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<EngineProcess> {
  const root = options.root ?? (await makeRoot());
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(PROJECT_ROOT, 'bin/chronus.mjs'), 'start', '--root', root], {
    env: { ...process.env, CHRONUS_AUDIO: 'null', CHRONUS_OSC_PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  readline.createInterface({ input: proc.stderr! }).on('line', (l) => output.push(l));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: the caller never gets a handle to stop it.
      proc.kill('SIGKILL');
      reject(new Error(`engine did not start in 30 s:\n${output.join('\n')}`));
    }, 30_000);
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      output.push(line);
      const m = /listening on [\d.]+:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code}:\n${output.join('\n')}`));
    });
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (!options.root) await rm(root, { recursive: true, force: true });
  };
  const killHard = async () => {
    const engine = engineUnder(proc.pid as number);
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    process.kill(engine, 'SIGKILL');
    await exited;
    // The supervisor had no chance to remove them.
    for (const file of [breadcrumbFile(proc.pid as number), carryFile(proc.pid as number)]) await rm(file, { force: true });
    await rm(`${carryFile(proc.pid as number)}.tmp`, { force: true });
  };
  return { root, port, proc, output, stop, killHard };
}

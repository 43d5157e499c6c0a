/**
 * `chronus start` runs the engine in a child process and watches it.
 *
 * - Native output: naudiodon's native code prints its version, options and every "output underflow"
 *   straight to stdout (and ALSA/JACK print to stderr when probing for a device): the supervisor keeps
 *   that noise out of ours, counts the underflows and tells the engine over IPC, so they show up in
 *   the xrun figure.
 * - Last resort: a plugin's control half runs on the engine's control thread, where what no time
 *   limit stops (an allocation that exhausts the heap, a loop of awaits) ends or freezes the process.
 *   The engine sends a heartbeat; when it dies, or its heartbeat stops for longer than it said it
 *   may, the supervisor reads the breadcrumb the engine keeps (kernel/plugins/breadcrumb.ts), names
 *   the plugin whose code was running, and starts the engine again without it — it loads again when
 *   its files change, and with the values the last one had (cli/carry-over.ts). An engine that keeps
 *   failing (RESTARTS_ALLOWED in RESTART_WINDOW_MS) is not started again.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { TEMP_SUFFIX } from '../kernel/base/atomic-file.ts';
import { parseBreadcrumb, type Breadcrumb } from '../kernel/plugins/breadcrumb.ts';
import { ENGINE_NODE_FLAGS } from './heap-sizing.ts';

const NATIVE_STDOUT = /^(PortAudio V|Input |Output |AudioIO: |Finishing (input|output)|NAPI )/;
const NATIVE_STDERR = /^(ALSA lib |Cannot connect to server|jack server is not running|JackShmReadWritePtr|Cannot connect to|connect\(2\) call to)/;
/** The engine's one machine-readable line (cli/start.ts). */
const LISTENING = /^chronus: listening on .+:(\d+)$/;
const RESTARTS_ALLOWED = 5;
const RESTART_WINDOW_MS = 60_000;

export interface UnderflowReport {
  underflows: number;
}

/**
 * What the engine tells its supervisor: it is alive (and how long it may go without saying so), or a
 * plugin held out of its start loaded again.
 */
export type EngineReport = { beat: number; graceMs: number } | { released: string };

/** The ids held out of the next start, with why (CHRONUS_HELD_OUT). */
export type HeldOut = { id: string; reason: string }[];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It sent a heartbeat: it started, so a death from here on is not a start-up error. */
  started: boolean;
  /** Its heartbeat stopped for longer than its grace, and it was killed. */
  frozenMs: number;
}

const ignore = (): void => undefined;

function hasStdbuf(): boolean {
  return spawnSync('stdbuf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The breadcrumb file of the engine under supervisor `pid` (kernel/plugins/breadcrumb.ts writes it). */
export function breadcrumbFile(pid: number): string {
  return path.join(os.tmpdir(), `chronus-breadcrumb-${pid}`);
}

/** The values and states an engine under supervisor `pid` carries into the next one (cli/carry-over.ts). */
export function carryFile(pid: number): string {
  return path.join(os.tmpdir(), `chronus-carry-${pid}.json`);
}

export async function supervise(argv: string[]): Promise<number> {
  const breadcrumb = breadcrumbFile(process.pid);
  const carry = carryFile(process.pid);
  const held = new Map<string, string>();
  const restarts: number[] = [];
  let stopping = false;
  let child: ReturnType<typeof spawnEngine> | null = null;
  const forward = (signal: NodeJS.Signals) => () => {
    stopping = true;
    child?.proc.kill(signal);
  };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  let note = '';
  let port = '';
  /** The control half that last ran, with work pending, before the last failure (no firmer clue). */
  let suspect = '';
  try {
    for (;;) {
      rmSync(breadcrumb, { force: true });
      const env: Record<string, string> = { CHRONUS_BREADCRUMB: breadcrumb, CHRONUS_CARRY: carry, CHRONUS_HELD_OUT: JSON.stringify([...held].map(([id, reason]) => ({ id, reason }))), CHRONUS_RESTARTED: note };
      // Started again on the port it had (one chosen by the OS included): its clients carry on.
      if (port !== '') env.CHRONUS_OSC_PORT = port;
      child = spawnEngine(argv, env, (id) => held.delete(id), (p) => (port = p));
      const run = await child.done;
      if (stopping || !run.started || (run.code === 0 && run.frozenMs === 0)) return run.code ?? (run.signal ? 1 : 0);
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift();
      const crumb = readCrumb(breadcrumb);
      note = whatHappened(run, crumb, held, suspect);
      suspect = 'left' in crumb && crumb.pending ? crumb.left : '';
      if (restarts.length > RESTARTS_ALLOWED) {
        process.stderr.write(`chronus: error: ${note}; it failed ${restarts.length} times within ${RESTART_WINDOW_MS / 1000} s, so it is not started again\n`);
        return 1;
      }
      process.stderr.write(`chronus: error: ${note}; starting it again\n`);
    }
  } finally {
    rmSync(breadcrumb, { force: true });
    rmSync(carry, { force: true });
    rmSync(`${carry}${TEMP_SUFFIX}`, { force: true });
  }
}

function readCrumb(file: string): Breadcrumb {
  try {
    return parseBreadcrumb(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Says what ended the engine. The plugin whose code was running is held out of the next start; so is
 * one that was the last to run, with work pending, before this failure and the one before.
 */
function whatHappened(run: Run, crumb: Breadcrumb, held: Map<string, string>, suspect: string): string {
  const how =
    run.frozenMs > 0
      ? `the engine's control thread stopped answering for ${(run.frozenMs / 1000).toFixed(1)} s`
      : `the engine process ended (${run.signal ?? `exit code ${run.code}`}${run.signal === 'SIGABRT' || run.code === 134 ? ': out of memory?' : ''})`;
  if ('in' in crumb) {
    const reason = `${how} while its control half ran`;
    held.set(crumb.in, reason);
    return `${how} in plugin "${crumb.in}"'s control half; it stays out until its files change`;
  }
  if ('left' in crumb && crumb.pending) {
    const last = `the last control half to run was plugin "${crumb.left}"'s, with work still pending (a loop of awaits?)`;
    if (crumb.left !== suspect) return `${how}; ${last}`;
    held.set(crumb.left, `${how} twice, each time after its control half ran last`);
    return `${how}; ${last}, as before the last failure: it stays out until its files change`;
  }
  return how;
}

/**
 * The engine process's malloc arenas, which only its start can set (issue 16; README "Measured"):
 * glibc gives every thread that mallocs an arena of its own (up to 8 per core), each keeping what it
 * once held; two for all the engine's threads kept 12 MiB less at rest. An environment that sets
 * MALLOC_ARENA_MAX itself keeps its own.
 */
const ENGINE_ENV = { MALLOC_ARENA_MAX: '2' };

/** One engine process; `done` resolves when it has exited. */
function spawnEngine(argv: string[], extraEnv: Record<string, string>, released: (id: string) => void, listening: (port: string) => void) {
  // Native printf to a pipe is block-buffered; stdbuf makes it line-buffered so underflows count promptly.
  const stdbuf = hasStdbuf();
  const command = stdbuf ? 'stdbuf' : process.execPath;
  // The engine's heap flags first: node flags the supervisor was given (a bench's) come after and win.
  const node = [...ENGINE_NODE_FLAGS, ...process.execArgv, ...argv];
  const args = stdbuf ? ['-oL', '-eL', process.execPath, ...node] : node;
  // A process group of its own: a frozen engine is killed with its helpers (esbuild's service), and
  // what a dead one left behind goes with it. Ctrl-C reaches the supervisor, which passes it on.
  const proc = spawn(command, args, {
    stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
    env: { ...ENGINE_ENV, ...process.env, ...extraEnv, CHRONUS_SUPERVISED: '1' },
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-(proc.pid as number), 'SIGKILL');
    } catch {
      // Nothing left in it.
    }
  };
  let underflows = 0;
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (!NATIVE_STDOUT.test(line)) {
      process.stdout.write(`${line}\n`);
      const port = LISTENING.exec(line)?.[1];
      if (port !== undefined) listening(port);
      return;
    }
    if (line.includes('underflow')) {
      underflows++;
      // An engine stopping closes the channel while the device still underflows: a failed send is dropped, not an 'error' that ends us.
      if (proc.connected) proc.send({ underflows } satisfies UnderflowReport, ignore);
    }
  });
  readline.createInterface({ input: proc.stderr! }).on('line', (line) => {
    if (!NATIVE_STDERR.test(line)) process.stderr.write(`${line}\n`);
  });
  let lastBeat = 0;
  let graceMs = 0;
  let frozenMs = 0;
  proc.on('message', (m: EngineReport) => {
    if ('beat' in m && typeof m.graceMs === 'number') {
      lastBeat = Date.now();
      graceMs = m.graceMs;
    } else if ('released' in m && typeof m.released === 'string') released(m.released);
  });
  const watch = setInterval(() => {
    const silent = Date.now() - lastBeat;
    if (lastBeat === 0 || frozenMs > 0 || silent <= graceMs) return;
    frozenMs = silent;
    killGroup();
  }, 250);
  const done = new Promise<Run>((resolve) => {
    proc.on('exit', (code, signal) => {
      clearInterval(watch);
      if (code !== 0) killGroup();
      resolve({ code, signal, started: lastBeat > 0, frozenMs });
    });
    // Only a spawn that failed ends here ('exit' does not follow it); a failed send is already ignored.
    proc.on('error', (e) => {
      if (proc.pid !== undefined) return;
      clearInterval(watch);
      process.stderr.write(`chronus: error: could not start the engine: ${e.message}\n`);
      resolve({ code: 1, signal: null, started: false, frozenMs: 0 });
    });
  });
  return { proc, done };
}

/**
 * `chronus start` runs the engine in a child process and watches its output. naudiodon's native code
 * prints its version, options and every "output underflow" straight to stdout (and ALSA/JACK print
 * to stderr when probing for a device): the supervisor keeps that noise out of ours, counts the
 * underflows and tells the engine over IPC, so they show up in the xrun figure.
 */
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline';

const NATIVE_STDOUT = /^(PortAudio V|Input |Output |AudioIO: |Finishing (input|output)|NAPI )/;
const NATIVE_STDERR = /^(ALSA lib |Cannot connect to server|jack server is not running|JackShmReadWritePtr|Cannot connect to|connect\(2\) call to)/;

export interface UnderflowReport {
  underflows: number;
}

function hasStdbuf(): boolean {
  return spawnSync('stdbuf', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function supervise(argv: string[]): Promise<number> {
  // Native printf to a pipe is block-buffered; stdbuf makes it line-buffered so underflows count promptly.
  const stdbuf = hasStdbuf();
  const command = stdbuf ? 'stdbuf' : process.execPath;
  const args = stdbuf ? ['-oL', '-eL', process.execPath, ...process.execArgv, ...argv] : [...process.execArgv, ...argv];
  const child = spawn(command, args, {
    stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, CHRONUS_SUPERVISED: '1' },
  });
  let underflows = 0;
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!NATIVE_STDOUT.test(line)) {
      process.stdout.write(`${line}\n`);
      return;
    }
    if (line.includes('underflow')) {
      underflows++;
      if (child.connected) child.send({ underflows } satisfies UnderflowReport);
    }
  });
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    if (!NATIVE_STDERR.test(line)) process.stderr.write(`${line}\n`);
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/**
 * Start-up figures (issue 16): `chronus start` → the first OSC answer and → the first non-silent
 * block, and the wall time of an empty offline render (0.01 s of audio). Real processes of
 * `bin/chronus.mjs` on a temp root (a copy of the plugins; cached bundles hit, as on a user's second
 * start); medians over `--runs`, after one start that is not counted (it fills the caches). Nothing
 * here is asserted.
 *
 *   npm run bench -- startup [--runs 7] [--backend auto|null] [--only start|render] [--resend] [--bin <other checkout>/bin/chronus.mjs]
 *
 * `--resend`: the gate is sent again with every status request once the engine answers (for an engine
 * that drops what arrives before it listens).
 *
 * From the spawn on, one client sends `/engine/ping` every 5 ms (the first `/engine/pong` is "OSC
 * answering"); another sends `/gate/voice1 1` and `/engine/status` every 5 ms (the gate until the
 * engine has answered) until a status reply shows a peak above zero ("first sound", ≤ 5 ms late).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OscClient } from '../cli/osc-client.ts';
import { makeRoot } from '../test/helpers/engine-process.ts';
import { freeUdpPort } from '../test/helpers/free-port.ts';
import { PROJECT_ROOT } from '../test/helpers/offline-engine.ts';
import type { EngineStatus } from '../kernel/status/engine-status.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, backend: { type: 'string', default: 'auto' }, only: { type: 'string' }, resend: { type: 'boolean', default: false }, bin: { type: 'string' } } });
const runs = Number(values.runs);
const HOST = '127.0.0.1';
// `--bin`: another checkout's bin/chronus.mjs (its plugins and config are used too), for before/after in one run.
const BIN = path.resolve(values.bin ?? path.join(PROJECT_ROOT, 'bin/chronus.mjs'));
const PACKAGE = path.dirname(path.dirname(BIN));

/** A temp root with the package's plugins and its config (the web plugin on any free port). */
async function packageRoot(): Promise<string> {
  const root = await makeRoot(path.join(PACKAGE, 'plugins'));
  const config = JSON.parse(await readFile(path.join(PACKAGE, 'config/default.json'), 'utf8')) as { plugins: Record<string, Record<string, unknown>> };
  config.plugins.web = { ...config.plugins.web, port: 0 };
  await writeFile(path.join(root, 'config/default.json'), JSON.stringify(config));
  return root;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}; ${xs.length} runs)`;

interface StartFigures {
  answerMs: number;
  soundMs: number;
  listeningMs: number;
}

async function oneStart(root: string): Promise<StartFigures> {
  const port = await freeUdpPort();
  const pinger = await OscClient.open();
  const player = await OscClient.open();
  const t0 = performance.now();
  const proc = spawn(process.execPath, [BIN, 'start', '--root', root], {
    env: { ...process.env, CHRONUS_AUDIO: values.backend!, CHRONUS_OSC_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let listeningMs = NaN;
  proc.stdout.on('data', (d: Buffer) => {
    if (Number.isNaN(listeningMs) && d.toString().includes('listening on')) listeningMs = performance.now() - t0;
  });
  proc.stderr.resume();
  try {
    let answerMs = NaN;
    let soundMs = NaN;
    pinger.onMessage = (m) => {
      if (m.address === '/engine/pong' && Number.isNaN(answerMs)) answerMs = performance.now() - t0;
    };
    player.onMessage = (m) => {
      if (m.address !== '/engine/status' || !Number.isNaN(soundMs)) return;
      const s = JSON.parse(String(m.args[m.args.length - 1])) as EngineStatus;
      if (s.peak > 0) soundMs = performance.now() - t0;
    };
    let gateSent = false;
    const deadline = t0 + 30_000;
    while ((Number.isNaN(answerMs) || Number.isNaN(soundMs) || Number.isNaN(listeningMs)) && performance.now() < deadline && proc.exitCode === null) {
      if (Number.isNaN(answerMs)) pinger.send(HOST, port, '/engine/ping', []);
      // The gate goes with every poll until the engine has answered once (a datagram sent before the
      // socket is bound is lost), then once more. `--resend`: with every poll, for an engine that drops
      // what arrives before it has loaded its plugins.
      if (Number.isNaN(answerMs) || !gateSent || values.resend) {
        player.send(HOST, port, '/gate/voice1', [1]);
        gateSent = !Number.isNaN(answerMs);
      }
      player.send(HOST, port, '/engine/status', []);
      await new Promise((r) => setTimeout(r, 5));
    }
    return { answerMs, soundMs, listeningMs };
  } finally {
    await pinger.close();
    await player.close();
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  }
}

async function startFigures(): Promise<void> {
  const root = await packageRoot();
  try {
    await oneStart(root);
    const all: StartFigures[] = [];
    for (let i = 0; i < runs; i++) all.push(await oneStart(root));
    process.stdout.write(
      [
        `${BIN}: chronus start (backend ${values.backend}), from the spawn:`,
        `  OSC answering (first /engine/pong):  ${range(all.map((f) => f.answerMs))}`,
        `  first sound (a gate sent at spawn):  ${range(all.map((f) => f.soundMs))}`,
        `  "listening" printed:                 ${range(all.map((f) => f.listeningMs))}`,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function renderFigures(): Promise<void> {
  const root = await packageRoot();
  try {
    const score = path.join(root, 'empty.json');
    await writeFile(score, JSON.stringify({ seconds: 0.01, events: [] }));
    const once = async (args: string[]) => {
      const t0 = performance.now();
      const proc = spawn(process.execPath, args, { stdio: 'ignore' });
      const code = await new Promise((resolve) => proc.once('exit', resolve));
      if (code !== 0) throw new Error(`${args.join(' ')} exited with ${String(code)}`);
      return performance.now() - t0;
    };
    const render = [BIN, 'render', score, '-o', path.join(root, 'out.wav'), '--root', root];
    await once(render);
    const node: number[] = [];
    const renders: number[] = [];
    // Interleaved, so both see the same load on a shared machine.
    for (let i = 0; i < runs; i++) {
      node.push(await once(['-e', '0']));
      renders.push(await once(render));
    }
    process.stdout.write([`empty render (0.01 s of audio), whole process: ${range(renders)}`, `  node -e 0 on the same machine:     ${range(node)}`, ''].join('\n'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

// Which runtime the measured checkout uses (a stale dist/ means the TypeScript under tsx: slower).
process.stdout.write(spawnSync(process.execPath, [BIN, 'version'], { encoding: 'utf8' }).stdout);
if (values.only !== 'render') await startFigures();
if (values.only !== 'start') await renderFigures();

/**
 * Start-up figures (issue 16): `chronus start` → the first OSC answer and → the first non-silent
 * block, and the wall time of an empty offline render (0.01 s of audio). Real processes of
 * `bin/chronus.mjs` on a temp root (a copy of the plugins; cached bundles hit, as on a user's second
 * start); medians over `--runs`, after one start that is not counted (it fills the caches). Nothing
 * here is asserted.
 *
 *   npm run bench -- startup [--runs 7] [--backend auto|null] [--only start|render] [--resend] [--bin <checkout>/bin/chronus.mjs ...]
 *
 * `--bin` (repeatable): the checkouts measured, default this one; with several, their runs alternate
 * (one of each in turn), so all see the same load on a shared machine and their ratios hold.
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

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, backend: { type: 'string', default: 'auto' }, only: { type: 'string' }, resend: { type: 'boolean', default: false }, bin: { type: 'string', multiple: true } } });
const runs = Number(values.runs);
const HOST = '127.0.0.1';
// `--bin`: checkouts' bin/chronus.mjs (their plugins and config are used too), for before/after in one run.
const BINS = (values.bin ?? [path.join(PROJECT_ROOT, 'bin/chronus.mjs')]).map((b) => path.resolve(b));
const packageOf = (bin: string) => path.dirname(path.dirname(bin));

/** A temp root with the package's plugins and its config (the web plugin on any free port). */
async function packageRoot(bin: string): Promise<string> {
  const root = await makeRoot(path.join(packageOf(bin), 'plugins'));
  const config = JSON.parse(await readFile(path.join(packageOf(bin), 'config/default.json'), 'utf8')) as { plugins: Record<string, Record<string, unknown>> };
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

async function oneStart(bin: string, root: string): Promise<StartFigures> {
  const port = await freeUdpPort();
  const pinger = await OscClient.open();
  const player = await OscClient.open();
  const t0 = performance.now();
  const proc = spawn(process.execPath, [bin, 'start', '--root', root], {
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
  const roots = await Promise.all(BINS.map((bin) => packageRoot(bin)));
  try {
    for (const [i, bin] of BINS.entries()) await oneStart(bin, roots[i]);
    const all: StartFigures[][] = BINS.map(() => []);
    for (let r = 0; r < runs; r++) for (const [i, bin] of BINS.entries()) all[i].push(await oneStart(bin, roots[i]));
    for (const [i, bin] of BINS.entries()) {
      process.stdout.write(
        [
          `${bin}: chronus start (backend ${values.backend}), from the spawn:`,
          `  OSC answering (first /engine/pong):  ${range(all[i].map((f) => f.answerMs))}`,
          `  first sound (a gate sent at spawn):  ${range(all[i].map((f) => f.soundMs))}`,
          `  "listening" printed:                 ${range(all[i].map((f) => f.listeningMs))}`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  }
}

async function renderFigures(): Promise<void> {
  const roots = await Promise.all(BINS.map((bin) => packageRoot(bin)));
  try {
    const once = async (args: string[]) => {
      const t0 = performance.now();
      const proc = spawn(process.execPath, args, { stdio: 'ignore' });
      const code = await new Promise((resolve) => proc.once('exit', resolve));
      if (code !== 0) throw new Error(`${args.join(' ')} exited with ${String(code)}`);
      return performance.now() - t0;
    };
    const renders = await Promise.all(
      BINS.map(async (bin, i) => {
        const score = path.join(roots[i], 'empty.json');
        await writeFile(score, JSON.stringify({ seconds: 0.01, events: [] }));
        return [bin, 'render', score, '-o', path.join(roots[i], 'out.wav'), '--root', roots[i]];
      }),
    );
    for (const render of renders) await once(render);
    const node: number[] = [];
    const times: number[][] = BINS.map(() => []);
    // Interleaved, so all see the same load on a shared machine.
    for (let r = 0; r < runs; r++) {
      node.push(await once(['-e', '0']));
      for (const [i, render] of renders.entries()) times[i].push(await once(render));
    }
    for (const [i, bin] of BINS.entries()) process.stdout.write(`${bin}: empty render (0.01 s of audio), whole process: ${range(times[i])}\n`);
    process.stdout.write(`node -e 0 on the same machine: ${range(node)}\n`);
  } finally {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  }
}

// Which runtime each measured checkout uses (a stale dist/ means the TypeScript under tsx: slower).
for (const bin of BINS) process.stdout.write(`${bin}: ${spawnSync(process.execPath, [bin, 'version'], { encoding: 'utf8' }).stdout}`);
if (values.only !== 'render') await startFigures();
if (values.only !== 'start') await renderFigures();

/**
 * The reference workload (../shared/WORKLOAD.md, "chronus-ref"), rendered offline by `chronus render`
 * with Chronus's own plugins at N = 8, 32 and 128 voices: per N the median wall time of 3 runs (the
 * whole process: node start, tsx, plugin bundling, score, render, WAV), the real-time factor
 * RTF = 60 s / wall, and the peak RSS of the median run (`/usr/bin/time -v`). Every render is checked
 * with `sox out.wav -n stat` (non-zero RMS, |peak| ≤ 1, 60.000 s, 2 ch, 48 kHz, 24 bit).
 *
 *   npm run bench -- ref [--voices 8,32,128] [--runs 3] [--seconds 60] [--smoothing-ms 0]
 *                        [--limiter] [--tsx] [--keep] [--cpu-prof <dir>] [--peers]
 *
 * `--peers` renders the same workload with SuperCollider's server in non-real-time mode (`scsynth -N`,
 * Debian's supercollider-server; bench/scsynth-nrt.ts writes its SynthDefs and score, no sclang) in the
 * same run, Chronus and scsynth alternating run by run, and prints N | Chronus RTF | scsynth RTF |
 * ratio. scsynth's wall time is its whole process too (start, plugin scan, score, render, WAV).
 *
 * `--baseline <dir>` renders the same workload with another checkout of Chronus (its own plugins, its
 * own prebuilt dist/: run `npm run build` there) in the same run, alternating with this one, and
 * prints before/after per N: the way to measure a change on a machine whose load moves.
 *
 * `--cpu-prof <dir>` writes V8 CPU profiles of every render there and prints, per N, where the main
 * thread's time went (self time by category: voice kernel, effects, kernel, start-up …).
 *
 * Renders run `bin/chronus.mjs` as a user does: the prebuilt dist/ (`npm run build`, which `npm
 * install` runs; not timed, like compiling an engine), or with `--tsx` the TypeScript under tsx (its
 * start-up cost, measured). Plugin bundles come from the bundle cache after the first run of each N
 * (kernel/plugins/plugin-bundle-cache.ts), as they do for a user's second start. Profiles name files only
 * with `--tsx` (under dist/ the kernel is one file).
 *
 * How Chronus plays the workload (score generated here beforehand, not timed):
 * - voice i (1…N, config engine.numVoices = N): saw (`osc/type` 1; windowed-sinc BLEP), freq
 *   110·2^((i−1)/24.2), `filter/q` 2 (TPT state-variable lowpass), `filter/freq` 1200, ADSR 5 ms /
 *   100 ms / 0.6 / 150 ms, `amp` 0.25/√N, `send/reverb` 1, `send/delay` 1; gates at 0.25k s (on) and
 *   0.25k + 0.1 s (off), k = 0…239: N × 480 gate messages.
 * - lfo1: sine 0.5 Hz, depth 1, range 600 Hz on the pattern target `/mod/voice*\/filter/freq` (one
 *   LFO, every voice's cutoff: 1200 ± 600 Hz, once per block as WORKLOAD.md says); lfo2 off.
 * - dist1 (on the voice sum): drive ln 2 / ln 50 (pre-gain 2, i.e. tanh(2x)), mix 0.5 (equal power:
 *   dry and wet × 0.707), tone 1 (its closest to flat: low-pass 8 kHz, high-pass 100 Hz); Chronus's
 *   shaper is its own rational tanh-like curve, 2× oversampled with ADAA, plus a 20 Hz high-pass and a
 *   DC blocker — not the workload's plain 0.5·x + 0.5·tanh(2x).
 * - reverb1: room 0.8, damp 0.5, mix 0.3; delay1: time 0.375 s, feedback 0.4, mix 0.25, lowcut
 *   20 Hz and highcut 10 kHz (its widest: the workload's delay has no filters).
 * - Topology deviation: Chronus's sends are per voice, taken BEFORE dist1 (as in the engine it
 *   replaces), so the reverb and delay are fed x, not d; no master 0.5 gain. The limiter is not in the
 *   workload and is left out (`--limiter` adds it).
 * - Parameter smoothing: `--smoothing-ms` sets config engine.smoothingMs for the bench root. Default
 *   0: every value steps at its event and the LFO's offset steps once per 256-frame block (the
 *   workload's control rate, as scsynth's kr LFO does); the engine's own default is 20 ms (then the
 *   cutoffs glide per sample, and the voice parameters glide from their defaults for the first 20 ms).
 *
 * Bench root (a temp folder, deleted after unless --keep): config/default.json (the project's),
 * config/local.json (numVoices N, stageSeconds 0, watch false, viz off), plugins/ (copies of voices,
 * lfo, distortion, reverb, delay [, limiter]), score.json, out.wav.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scsynthArgs, scsynthInstalled } from './scsynth-nrt.ts';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(PROJECT, 'bin/chronus.mjs');
const TIME = '/usr/bin/time';
const FS = 48000;

const { values } = parseArgs({
  options: {
    voices: { type: 'string', default: '8,32,128' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '60' },
    'smoothing-ms': { type: 'string', default: '0' },
    limiter: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    tsx: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const baseline = values.baseline === undefined ? null : path.resolve(values.baseline);
const voiceCounts = values.voices.split(',').map(Number);
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const smoothingMs = Number(values['smoothing-ms']);
if (!existsSync(TIME)) {
  process.stderr.write(`${TIME} is missing: apt-get install -y time\n`);
  process.exit(2);
}
if (values.peers && !scsynthInstalled()) {
  process.stderr.write('--peers needs scsynth: apt-get install -y supercollider-server\n');
  process.exit(2);
}

interface Event {
  time: number;
  address: string;
  args: (number | string)[];
}

/** The workload as a score of timed OSC messages (WORKLOAD.md; deviations in the header above). */
export function makeScore(n: number, length: number): { seconds: number; events: Event[] } {
  const events: Event[] = [];
  const at = (time: number, address: string, ...args: (number | string)[]) => events.push({ time, address, args });
  at(0, '/mod/lfo1/target', '/mod/voice*/filter/freq');
  at(0, '/mod/lfo1/shape', 0);
  at(0, '/mod/lfo1/rate', 0.5);
  at(0, '/mod/lfo1/depth', 1);
  at(0, '/mod/lfo1/offset', 0);
  at(0, '/mod/lfo1/range', 600);
  at(0, '/mod/lfo2/target', 'none');
  at(0, '/mod/dist1/drive', Math.log(2) / Math.log(50));
  at(0, '/mod/dist1/mix', 0.5);
  at(0, '/mod/dist1/tone', 1);
  at(0, '/mod/reverb1/room', 0.8);
  at(0, '/mod/reverb1/damp', 0.5);
  at(0, '/mod/reverb1/mix', 0.3);
  at(0, '/mod/delay1/time', 0.375);
  at(0, '/mod/delay1/feedback', 0.4);
  at(0, '/mod/delay1/mix', 0.25);
  at(0, '/mod/delay1/lowcut', 20);
  at(0, '/mod/delay1/highcut', 10000);
  const gain = 0.25 / Math.sqrt(n);
  for (let v = 1; v <= n; v++) {
    const m = `/mod/voice${v}`;
    at(0, `${m}/osc/type`, 1);
    at(0, `${m}/freq`, 110 * 2 ** ((v - 1) / 24.2));
    at(0, `${m}/amp`, gain);
    at(0, `${m}/filter/freq`, 1200);
    at(0, `${m}/filter/q`, 2);
    at(0, `${m}/adsr/attack`, 0.005);
    at(0, `${m}/adsr/decay`, 0.1);
    at(0, `${m}/adsr/sustain`, 0.6);
    at(0, `${m}/adsr/release`, 0.15);
    at(0, `${m}/send/reverb`, 1);
    at(0, `${m}/send/delay`, 1);
  }
  const periods = Math.round(length / 0.25);
  for (let k = 0; k < periods; k++) {
    for (let v = 1; v <= n; v++) at(0.25 * k, `/gate/voice${v}`, 1);
    for (let v = 1; v <= n; v++) at(0.25 * k + 0.1, `/gate/voice${v}`, 0);
  }
  return { seconds: length, events };
}

function distCurrent(): boolean {
  return spawnSync(process.execPath, [BIN, 'version'], { encoding: 'utf8' }).stdout.includes('prebuilt dist/');
}

function makeRoot(n: number, project = PROJECT): string {
  const root = mkdtempSync(path.join(os.tmpdir(), `chronus-ref-${n}-`));
  mkdirSync(path.join(root, 'config'));
  cpSync(path.join(project, 'config/default.json'), path.join(root, 'config/default.json'));
  const local = {
    engine: { numVoices: n, stageSeconds: 0, watch: false, smoothingMs },
    viz: { enabled: false },
  };
  writeFileSync(path.join(root, 'config/local.json'), `${JSON.stringify(local, null, 2)}\n`);
  const plugins = ['voices', 'lfo', 'distortion', 'reverb', 'delay', ...(values.limiter ? ['limiter'] : [])];
  for (const p of plugins) cpSync(path.join(project, 'plugins', p), path.join(root, 'plugins', p), { recursive: true });
  writeFileSync(path.join(root, 'score.json'), JSON.stringify(makeScore(n, seconds)));
  return root;
}

interface Run {
  wall: number;
  /** User + system CPU seconds of the render process (and its children). */
  cpu: number;
  rssMiB: number;
  check: string;
  ok: boolean;
}

/** `sox out.wav -n stat` and the header: non-zero RMS, |peak| ≤ 1, the length, 2 ch, 48 kHz, 24 bit. */
function sanity(file: string): { ok: boolean; text: string } {
  const stat = spawnSync('sox', [file, '-n', 'stat'], { encoding: 'utf8' });
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(stat.stderr)?.[1]);
  const info = (flag: string) => spawnSync('sox', ['--i', flag, file], { encoding: 'utf8' }).stdout.trim();
  const length = field('Length \\(seconds\\)');
  const rms = field('RMS\\s+amplitude');
  const peak = Math.max(Math.abs(field('Maximum amplitude')), Math.abs(field('Minimum amplitude')));
  const ch = Number(info('-c'));
  const rate = Number(info('-r'));
  const bits = Number(info('-b'));
  const ok = rms > 0 && peak <= 1 && Math.abs(length - seconds) < 0.5 / FS && ch === 2 && rate === FS && bits === 24;
  return { ok, text: `${length.toFixed(3)} s ${ch} ch ${rate} Hz ${bits} bit, RMS ${rms.toFixed(4)}, peak ${peak.toFixed(4)}` };
}


/** One timed process under `/usr/bin/time -v` writing `out`, then its sanity check. */
function timed(command: string[], out: string, env: NodeJS.ProcessEnv, check = true): Run {
  rmSync(out, { force: true });
  const t0 = performance.now();
  const r = spawnSync(TIME, ['-v', ...command], { encoding: 'utf8', env });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${path.basename(command[0])} failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
  const timeOf = (name: string) => Number(new RegExp(`${name} time \\(seconds\\): ([\\d.]+)`).exec(r.stderr)?.[1] ?? NaN);
  const cpu = timeOf('User') + timeOf('System');
  if (!check) return { wall, cpu, rssMiB: rss, check: '', ok: true };
  const result = sanity(out);
  return { wall, cpu, rssMiB: rss, check: result.text, ok: result.ok };
}

function render(root: string, profileDir: string | undefined, bin = BIN): Run {
  const out = path.join(root, 'out.wav');
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const env = { ...process.env, NODE_OPTIONS: '', ...(values.tsx ? { CHRONUS_DIST: '0' } : {}) };
  return timed([process.execPath, ...nodeArgs, bin, 'render', path.join(root, 'score.json'), '-o', out, '--format', 'int24', '--root', root], out, env);
}

/** The same render cut to 0.01 s: the process's start-up with this score (read, parsed, the first events), not its DSP. */
function renderStart(root: string): Run {
  const out = path.join(root, 'start.wav');
  const env = { ...process.env, NODE_OPTIONS: '', ...(values.tsx ? { CHRONUS_DIST: '0' } : {}) };
  return timed([process.execPath, BIN, 'render', path.join(root, 'score.json'), '-o', out, '--seconds', '0.01', '--root', root], out, env, false);
}

/** scsynth -N on the same workload (its score written into `root` beforehand, not timed). */
function renderScsynth(root: string, n: number): Run {
  const out = path.join(root, 'scsynth.wav');
  return timed(['scsynth', ...scsynthArgs(root, n, seconds, FS, out)], out, process.env);
}

/** Self time of a render's main-thread profile (the largest .cpuprofile written since `since`), by category. */
function profileSummary(dir: string, since: number): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= since);
  type Node = { id: number; callFrame: { functionName: string; url: string } };
  type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  // The render's main thread is the busiest profile (tsx's loader thread writes one too).
  let best: Profile | null = null;
  let bestBusy = -1;
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    let busy = 0;
    for (let i = 0; i < p.samples.length; i++) if (!idle.has(p.samples[i])) busy += p.timeDeltas[i];
    if (busy > bestBusy) {
      best = p;
      bestBusy = busy;
    }
  }
  if (!best) return '  (no profile)\n';
  const cats: [string, (cf: Node['callFrame']) => boolean][] = [
    ['voices: wasm kernel', (cf) => cf.url.startsWith('wasm')],
    ['voices: plugin JS', (cf) => /voices\/index\.ts/.test(cf.url)],
    ['dist1', (cf) => /distortion\/|oversampler/.test(cf.url)],
    ['reverb1', (cf) => /reverb\/|freeverb/.test(cf.url)],
    ['delay1', (cf) => /delay\/|delay-line/.test(cf.url)],
    ['lfo', (cf) => /lfo\//.test(cf.url)],
    // By file name, wherever the kernel keeps the file.
    ['kernel: audio graph, params, queue', (cf) => /\/(audio-engine|param|event-queue|control-ring|audio-host|tap-ring)\.ts/.test(cf.url)],
    ['kernel: score, OSC routing (zod)', (cf) => /\/(osc-router|engine|param-control|score|schema-registry|param-routes)\.ts/.test(cf.url) || /zod/.test(cf.url)],
    ['kernel: offline loop, WAV writer', (cf) => /render-score|wav-file|plugin-sdk\/wav\//.test(cf.url)],
    ['GC', (cf) => cf.functionName === '(garbage collector)'],
    ['idle (I/O, worker threads)', (cf) => cf.functionName === '(idle)'],
    ['start-up: module loading, tsx, esbuild, other', () => true],
  ];
  const byId = new Map(best.nodes.map((n) => [n.id, n.callFrame]));
  const t = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < best.samples.length; i++) {
    const cf = byId.get(best.samples[i]);
    if (!cf) continue;
    const c = (cats.find(([, m]) => m(cf)) as [string, unknown])[0];
    t.set(c, (t.get(c) ?? 0) + best.timeDeltas[i]);
    all += best.timeDeltas[i];
  }
  return cats
    .map(([c]) => `    ${(((t.get(c) ?? 0) / 1000) | 0).toString().padStart(6)} ms ${((100 * (t.get(c) ?? 0)) / all).toFixed(1).padStart(5)} %  ${c}`)
    .join('\n')
    .concat('\n');
}

const rows: string[] = [];
const peerRows: string[] = [];
const baselineRows: string[] = [];
const baselineBin = baseline === null ? '' : path.join(baseline, 'bin/chronus.mjs');
if (baseline !== null) {
  const version = spawnSync(process.execPath, [baselineBin, 'version'], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`baseline: ${baseline} — ${version || 'no answer to chronus version'}\n`);
}
process.stdout.write(
  `chronus-ref: ${seconds} s, 48 kHz stereo int24, ${runs} runs per N, smoothing ${smoothingMs} ms${values.limiter ? ', with limiter' : ''}, ${values.tsx ? 'bin/chronus.mjs, TypeScript under tsx' : `bin/chronus.mjs, ${distCurrent() ? 'prebuilt dist/' : 'dist/ NOT current: tsx (npm run build)'}`} (${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version})${values.peers ? `; peer: ${scsynthVersion()}` : ''}\n`,
);

function scsynthVersion(): string {
  return spawnSync('scsynth', ['-v'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? 'scsynth';
}

function median(results: Run[]): Run {
  return [...results].sort((a, b) => a.wall - b.wall)[Math.floor(results.length / 2)];
}

function line(who: string, n: number, i: number, r: Run): string {
  return `  ${who} N=${n} run ${i + 1}: ${r.wall.toFixed(3)} s (CPU ${r.cpu.toFixed(2)} s), RSS ${r.rssMiB.toFixed(0)} MiB, ${r.check}${r.ok ? '' : '  <-- SANITY CHECK FAILED'}\n`;
}

for (const n of voiceCounts) {
  const root = makeRoot(n);
  const baseRoot = baseline === null ? null : makeRoot(n, baseline);
  try {
    const before: Run[] = [];
    const results: Run[] = [];
    const peers: Run[] = [];
    const starts: Run[] = [];
    let since = 0;
    for (let i = 0; i < runs; i++) {
      if (baseRoot !== null) {
        const b = render(baseRoot, undefined, baselineBin);
        before.push(b);
        process.stdout.write(line('baseline', n, i, b));
      }
      since = Date.now() - 1000;
      const r = render(root, values['cpu-prof']);
      results.push(r);
      process.stdout.write(line('chronus', n, i, r));
      if (!values.peers) continue;
      const p = renderScsynth(root, n);
      peers.push(p);
      process.stdout.write(line('scsynth', n, i, p));
      const st = renderStart(root);
      starts.push(st);
      process.stdout.write(`  chronus N=${n} run ${i + 1}, cut to 0.01 s (start-up): ${st.wall.toFixed(3)} s (CPU ${st.cpu.toFixed(2)} s)\n`);
    }
    if (values['cpu-prof']) process.stdout.write(`  N=${n} main thread, last run (self time):\n${profileSummary(values['cpu-prof'], since)}`);
    const m = median(results);
    rows.push(
      `| ${String(n).padStart(3)} | ${m.wall.toFixed(3).padStart(7)} | ${(seconds / m.wall).toFixed(1).padStart(6)} | ${m.cpu.toFixed(2).padStart(6)} | ${m.rssMiB.toFixed(0).padStart(8)} | ${results.every((r) => r.ok) ? 'ok' : 'FAILED'} |`,
    );
    if (baseRoot !== null) {
      const b = median(before);
      const ok = before.every((r) => r.ok) ? 'ok' : 'FAILED';
      baselineRows.push(
        `| ${String(n).padStart(3)} | ${(seconds / b.wall).toFixed(1).padStart(12)} | ${(seconds / m.wall).toFixed(1).padStart(11)} | ${(b.wall / m.wall).toFixed(2).padStart(7)} | ${b.cpu.toFixed(2).padStart(5)} / ${m.cpu.toFixed(2).padStart(5)} | ${ok} |`,
      );
    }
    if (values.peers) {
      const p = median(peers);
      const st = median(starts);
      const ok = results.every((r) => r.ok) && peers.every((r) => r.ok) ? 'ok' : 'FAILED';
      peerRows.push(
        `| ${String(n).padStart(3)} | ${(seconds / m.wall).toFixed(1).padStart(11)} | ${(seconds / p.wall).toFixed(1).padStart(11)} | ${(p.wall / m.wall).toFixed(2).padStart(5)} | ${m.cpu.toFixed(2).padStart(5)} / ${p.cpu.toFixed(2).padStart(5)} | ${st.wall.toFixed(2).padStart(9)} | ${p.rssMiB.toFixed(0).padStart(7)} | ${ok} |`,
      );
    }
  } finally {
    if (values.keep) process.stdout.write(`  kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
    if (baseRoot !== null) rmSync(baseRoot, { recursive: true, force: true });
  }
}
process.stdout.write(
  ['', '|   N | wall s  |  RTF   | CPU s  | RSS MiB  | sox |', '|----:|--------:|-------:|-------:|---------:|-----|', ...rows, ''].join('\n'),
);
if (values.peers) {
  process.stdout.write(
    [
      '',
      'Same run, median of each (ratio = Chronus RTF / scsynth RTF, by wall time; ≥ 1: Chronus is faster; CPU s: user + system of',
      'the whole process, Chronus / scsynth; start s: Chronus cut to 0.01 s of audio, the part of its wall time that is not DSP):',
      '|   N | Chronus RTF | scsynth RTF | ratio | CPU s C / sc  | start s   | sc MiB  | sox |',
      '|----:|------------:|------------:|------:|--------------:|----------:|--------:|-----|',
      ...peerRows,
      '',
    ].join('\n'),
  );
}
if (baseline !== null) {
  process.stdout.write(
    [
      '',
      'Same run, median of each (speed-up = baseline wall / Chronus wall; CPU s: user + system, baseline / Chronus):',
      '|   N | baseline RTF | Chronus RTF | speed-up | CPU s b / C   | sox |',
      '|----:|-------------:|------------:|---------:|--------------:|-----|',
      ...baselineRows,
      '',
    ].join('\n'),
  );
}

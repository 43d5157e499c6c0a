/**
 * Save-to-audible on a quiet engine (issue 16): the null backend at 48 kHz / 256 frames with the
 * shipped plugins and a few voices sounding, a plugin's entry file saved (one `writeFile`, as an
 * editor's save) every `--every` ms, `--reloads` times. For each save it takes from the engine's
 * `chronus:plugins` trace when the load began, each of its steps and when the new version's first
 * block is heard (the swap's frame on the output clock, so the output lead is in it), and prints p50 /
 * p99 / max of: the watcher (save → load begins), each step, the lead, and save → heard, with the
 * xruns meanwhile. Nothing is asserted; the stress bench gives the same figures under load.
 *
 *   npm run bench -- reload [--reloads 40] [--every 600] [--plugin distortion] [--voices 8] [--config <json>]
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OscClient } from '../cli/osc-client.ts';
import type { EngineStatus } from '../kernel/status/engine-status.ts';
import { makeRoot, startEngineProcess } from '../test/helpers/engine-process.ts';
import { loadsOfSaves, reloadTraces } from './reload-trace.ts';

const { values } = parseArgs({
  options: {
    reloads: { type: 'string', default: '40' },
    every: { type: 'string', default: '600' },
    plugin: { type: 'string', default: 'distortion' },
    voices: { type: 'string', default: '8' },
    /** config/local.json of the bench's root (JSON), e.g. '{"engine":{"stageSeconds":0.1}}'. */
    config: { type: 'string', default: '{}' },
  },
});
const reloads = Number(values.reloads);
const voices = Number(values.voices);
const HOST = '127.0.0.1';
const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] : NaN);
const wallMs = () => performance.timeOrigin + performance.now();

const root = await makeRoot();
await writeFile(path.join(root, 'config/local.json'), values.config);
const engine = await startEngineProcess({ root, env: { CHRONUS_NUM_VOICES: String(voices), NODE_DEBUG: 'chronus:plugins' } });
const client = await OscClient.open();
try {
  const send = (address: string, ...args: number[]) => client.send(HOST, engine.port, address, args);
  for (let v = 1; v <= voices; v++) {
    send(`/mod/voice${v}/freq`, 110 * 2 ** (v / 7));
    send(`/mod/voice${v}/amp`, 0.2);
    send(`/mod/voice${v}/send/reverb`, 0.3);
    send(`/gate/voice${v}`, 1);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const xruns = async () => ((await client.request(HOST, engine.port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 2000 })).json as EngineStatus).xruns;
  const xrunsBefore = await xruns();
  const file = path.join(engine.root, 'plugins', values.plugin, 'index.ts');
  const source = await readFile(file, 'utf8');
  let swapped: () => void = () => undefined;
  client.onMessage = (m) => {
    if (m.address === '/engine/plugin/reloaded' && m.args[0] === values.plugin) swapped();
  };
  const savedAt: number[] = [];
  for (let i = 1; i <= reloads; i++) {
    const done = new Promise<void>((resolve) => (swapped = resolve));
    savedAt.push(wallMs());
    // A change of code (a comment at the end would leave the bundle's text, and so its trial cache key, as it was).
    await writeFile(file, `${source}\nexport const reloadBench = ${i};\n`);
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    await new Promise((r) => setTimeout(r, Number(values.every)));
  }
  const xrunsDuring = (await xruns()) - xrunsBefore;
  const traces = reloadTraces(engine.output, values.plugin);
  const rows = loadsOfSaves(savedAt, traces);
  const figure = (name: string, xs: number[]) => `${name} ${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.99).toFixed(1)} / ${Math.max(...xs).toFixed(1)}`;
  const steps = [...new Set(rows.flatMap((r) => [...r.trace.steps.keys()]))];
  process.stdout.write(
    [
      `reload: ${rows.length} of ${reloads} saves of ${values.plugin} traced, ${voices} voices, null backend, ${xrunsDuring} xruns meanwhile (p50 / p99 / max ms)`,
      `  save → heard: ${figure('', rows.map((r) => r.trace.heardAt - r.save))}`,
      `  ${[figure('watcher', rows.map((r) => r.trace.beganAt - r.save)), ...steps.map((s) => figure(s, rows.map((r) => r.trace.steps.get(s) ?? 0)))].join(', ')}`,
      '',
    ].join('\n'),
  );
} finally {
  await client.close();
  await engine.stop();
  await rm(root, { recursive: true, force: true });
}

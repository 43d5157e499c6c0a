/**
 * Stress (issue "Live plugins"): 48 kHz / 256 frames on the null backend, 64 sounding voices with
 * every effect, a plugin reload every 2 s (a real file write), 1,000 OSC messages a second, for
 * 5 minutes. Prints xruns, block render time p50/p99/p99.9 as a share of the deadline, reload
 * save-to-swap and save-to-audible p50/p99 with the engine's own steps of a reload (bundle, evaluate,
 * trial, live: NODE_DEBUG=chronus:plugins), and the engine process's RSS (not its supervisor's: both are printed, and esbuild's) at start, every 10 s (min, max, the last
 * minute's median against the first's) and at the end. Nothing is asserted.
 *
 *   npm run bench -- stress [--minutes 5] [--voices 64] [--plugin distortion] [--lead-blocks 3] [--node-args='<V8 flags>'] [--engine-log <file>]
 *
 * `--lead-blocks` sets audio.leadBlocks (config/local.json of the bench's root): output latency
 * traded for margin against the audio thread not being scheduled.
 */
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EngineStatus } from '../kernel/status/engine-status.ts';
import { OscClient } from '../cli/osc-client.ts';
import { StealMonitor } from './steal-monitor.ts';
import { loadsOfSaves, reloadTraces } from './reload-trace.ts';
import { engineUnder, makeRoot, startEngineProcess } from '../test/helpers/engine-process.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    voices: { type: 'string', default: '64' },
    plugin: { type: 'string', default: 'distortion' },
    'lead-blocks': { type: 'string', default: '3' },
    /** Node/V8 options for the engine process, space-separated (e.g. '--heap-growing-percent=50'). */
    'node-args': { type: 'string', default: '' },
    /** Where to write everything the engine printed (e.g. with --node-args=--trace-gc). */
    'engine-log': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const voices = Number(values.voices);
const HOST = '127.0.0.1';
const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] : NaN);
/** p50 / p99 of each step of the plugin's reloads, from the engine's `chronus:plugins` trace (`<id> reloaded: bundle 11.2 ms, …`). */
function reloadSteps(lines: readonly string[], plugin: string): string {
  const steps = new Map<string, number[]>();
  for (const line of lines) {
    const traced = new RegExp(`${plugin} reloaded: (.*)$`).exec(line);
    for (const [, step, ms] of traced ? traced[1].matchAll(/(\w+) ([\d.]+) ms/g) : []) steps.set(step, [...(steps.get(step) ?? []), Number(ms)]);
  }
  return [...steps].map(([step, ms]) => `${step} ${quantile(ms, 0.5).toFixed(1)} / ${quantile(ms, 0.99).toFixed(1)}`).join(', ') || 'none traced';
}
const rssMiB = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** RSS of the engine's child processes (esbuild's service), which the engine's own figure does not include. */
async function childrenRssMiB(pid: number): Promise<number> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
  return (await Promise.all(children.map((c) => rssMiB(c).catch(() => 0)))).reduce((a, b) => a + b, 0);
}

const leadBlocks = Number(values['lead-blocks']);
const root = await makeRoot();
await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ audio: { leadBlocks } }));
// The engine traces each load's steps (kernel/plugins/plugin-host.ts): where a reload's time goes.
const engine = await startEngineProcess({ root, env: { CHRONUS_NUM_VOICES: String(voices), NODE_DEBUG: 'chronus:plugins' }, nodeArgs: values['node-args'].split(' ').filter(Boolean) });
const client = await OscClient.open();
const status = async () => (await client.request(HOST, engine.port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 2000 })).json as EngineStatus;
try {
  const send = (address: string, ...args: number[]) => client.send(HOST, engine.port, address, args);
  for (let v = 1; v <= voices; v++) {
    send(`/mod/voice${v}/osc/type`, 1);
    send(`/mod/voice${v}/freq`, 110 * 2 ** ((v - 1) / 24.2));
    send(`/mod/voice${v}/amp`, 0.25 / Math.sqrt(voices));
    send(`/mod/voice${v}/adsr/sustain`, 0.8);
    send(`/mod/voice${v}/send/reverb`, 0.3);
    send(`/mod/voice${v}/send/delay`, 0.25);
    send(`/gate/voice${v}`, 1);
  }
  send('/mod/dist1/drive', 0.3);
  send('/mod/dist1/mix', 0.5);
  await new Promise((r) => setTimeout(r, 2000));
  const first = await status();
  // `chronus start` runs the engine under a supervisor (cli/supervisor.ts): the engine's figure is its own.
  const enginePid = engineUnder(engine.proc.pid!);
  const rssStart = await rssMiB(enginePid);
  const steal = new StealMonitor(async () => (await status()).xruns);

  // Reloads: append a comment to the plugin's entry file every 2 s; the engine announces each swap.
  const file = path.join(engine.root, 'plugins', values.plugin, 'index.ts');
  const toSwap: number[] = [];
  let writtenAt = 0;
  client.onMessage = (m) => {
    if (m.address === '/engine/plugin/reloaded' && writtenAt > 0) {
      toSwap.push(performance.now() - writtenAt);
      writtenAt = 0;
    }
  };
  let reloads = 0;
  const savedAt: number[] = [];
  const reloadTimer = setInterval(() => {
    writtenAt = performance.now();
    savedAt.push(performance.timeOrigin + writtenAt);
    reloads++;
    void appendFile(file, `\n// stress reload ${reloads}\n`);
  }, 2000);

  // 1,000 messages a second, in 10 ms bursts of 10: parameter moves and gate toggles.
  let sent = 0;
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const trafficTimer = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      const v = 1 + Math.floor(rand() * voices);
      const pick = rand();
      if (pick < 0.4) send(`/mod/voice${v}/filter/freq`, 300 + rand() * 4000);
      else if (pick < 0.7) send(`/mod/voice${v}/freq`, 110 * 2 ** (rand() * 5));
      else if (pick < 0.9) send(`/mod/voice${v}/amp`, (0.25 / Math.sqrt(voices)) * (0.5 + rand()));
      else send(`/gate/voice${v}`, 1);
      sent++;
    }
  }, 10);

  const until = Date.now() + minutes * 60_000;
  const rssSeries: number[] = [];
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10_000));
    const s = await status();
    rssSeries.push(await rssMiB(enginePid));
    process.stdout.write(`  ${((minutes * 60_000 - (until - Date.now())) / 1000).toFixed(0)} s: xruns ${s.xruns - first.xruns}, reloads ${toSwap.length}/${reloads}, messages ${sent}, RSS ${rssSeries.at(-1)!.toFixed(1)} MiB\n`);
  }
  clearInterval(reloadTimer);
  clearInterval(trafficTimer);
  await new Promise((r) => setTimeout(r, 1000));
  const last = await status();
  const rssEnd = await rssMiB(enginePid);
  const childRss = await childrenRssMiB(enginePid);
  const supervisorRss = await rssMiB(engine.proc.pid!);
  const deadline = last.blockMs.deadline;
  const share = (ms: number) => `${ms.toFixed(3)} ms (${((100 * ms) / deadline).toFixed(1)} %)`;
  const leadMs = leadBlocks * deadline;
  const heard = loadsOfSaves(savedAt, reloadTraces(engine.output, values.plugin)).map((r) => r.trace.heardAt - r.save);
  process.stdout.write(
    [
      `stress: ${minutes} min, ${voices} voices, all effects, a ${values.plugin} reload every 2 s, ~1,000 OSC messages/s (${sent} sent), lead ${leadBlocks} blocks`,
      `  xruns: ${last.xruns - first.xruns}${last.xruns > first.xruns ? ` (the last ${last.xrunDetail.lastLateMs.toFixed(1)} ms late, its block rendered in ${last.xrunDetail.lastRenderMs.toFixed(1)} ms)` : ''}; worst wake-up delay of the audio loop ${last.xrunDetail.maxWakeDelayMs.toFixed(1)} ms (of it past the sleep's timeout ${last.xrunDetail.maxSleepOverrunMs.toFixed(1)} ms); longest call on the audio thread ${last.xrunDetail.maxCallMs.toFixed(1)} ms`,
      `  block render time: p50 ${share(last.blockMs.p50)}, p99 ${share(last.blockMs.p99)}, p99.9 ${share(last.blockMs.p999)}, max ${share(last.blockMs.max)}`,
      `  reloads: ${toSwap.length} of ${reloads} swapped; save-to-swap p50 ${quantile(toSwap, 0.5).toFixed(1)} ms, p99 ${quantile(toSwap, 0.99).toFixed(1)} ms; save-to-audible (+${leadMs.toFixed(1)} ms of output lead) p50 ${(quantile(toSwap, 0.5) + leadMs).toFixed(1)} ms, p99 ${(quantile(toSwap, 0.99) + leadMs).toFixed(1)} ms`,
      `  save → heard, from the engine's trace (the swap's frame on the output clock, render-ahead included): p50 ${quantile(heard, 0.5).toFixed(1)} ms, p99 ${quantile(heard, 0.99).toFixed(1)} ms (${heard.length} loads)`,
      `  reload steps in the engine (p50 / p99 ms): ${reloadSteps(engine.output, values.plugin)}`,
      `  engine errors: ${last.errors - first.errors}, plugin faults: ${last.pluginFaults}`,
      `  RSS (the engine process, all its threads): ${rssStart.toFixed(1)} MiB at start, ${rssEnd.toFixed(1)} MiB at end; every 10 s: min ${Math.min(...rssSeries).toFixed(1)}, max ${Math.max(...rssSeries).toFixed(1)}, first minute median ${quantile(rssSeries.slice(0, 6), 0.5).toFixed(1)}, last minute median ${quantile(rssSeries.slice(-6), 0.5).toFixed(1)} MiB; its child processes (esbuild) ${childRss.toFixed(1)} MiB more, its supervisor ${supervisorRss.toFixed(1)} MiB`,
      ...steal.stop(),
      '',
    ].join('\n'),
  );
} finally {
  await client.close();
  await engine.stop();
  if (values['engine-log']) await writeFile(values['engine-log'], engine.output.join('\n'));
  await rm(root, { recursive: true, force: true });
}

/**
 * Kernel figures (issue "Kernel …"): start-up time to the first rendered block, OSC round trip
 * (/engine/status → reply) p50/p99, audio-thread block render time p50/p99/p99.9 with 8, 32 and 64
 * sounding voices as a share of the deadline, and RSS after start. Real engine processes on the null
 * backend; nothing here is asserted.
 *
 *   npm run bench -- kernel [--seconds 10] [--voices 8,32,64]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { EngineStatus } from '../kernel/status/engine-status.ts';
import { OscClient } from '../cli/osc-client.ts';
import { startEngineProcess } from '../test/helpers/engine-process.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, voices: { type: 'string', default: '8,32,64' } } });
const seconds = Number(values.seconds);
const voiceCounts = values.voices.split(',').map(Number);
const HOST = '127.0.0.1';

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function status(client: OscClient, port: number): Promise<EngineStatus> {
  return (await client.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 2000 })).json as EngineStatus;
}

async function rssMiB(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024;
}

async function run(voices: number): Promise<void> {
  const spawned = performance.now();
  const engine = await startEngineProcess({ env: { CHRONUS_NUM_VOICES: String(voices) } });
  const client = await OscClient.open();
  try {
    let s = await status(client, engine.port);
    while (s.framesRendered === 0) s = await status(client, engine.port);
    const startup = performance.now() - spawned;
    const rss = await rssMiB(engine.proc.pid!);
    const rtts: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      await status(client, engine.port);
      rtts.push(performance.now() - t0);
    }
    for (let v = 1; v <= voices; v++) {
      const send = (address: string, value: number) => client.send(HOST, engine.port, address, [value]);
      send(`/mod/voice${v}/osc/type`, 1);
      send(`/mod/voice${v}/freq`, 110 * 2 ** ((v - 1) / 24.2));
      send(`/mod/voice${v}/adsr/sustain`, 1);
      send(`/gate/voice${v}`, 1);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const before = await status(client, engine.port);
    await client.request(HOST, engine.port, '/engine/status', [], { replyAddress: '/engine/status' });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await status(client, engine.port);
    const deadline = after.blockMs.deadline;
    const pct = (ms: number) => `${ms.toFixed(3)} ms (${((100 * ms) / deadline).toFixed(1)} %)`;
    process.stdout.write(
      [
        `voices ${voices} sounding (gates ${after.activeGates}), ${seconds} s on the null backend:`,
        `  start-up to first rendered block: ${startup.toFixed(0)} ms (process spawn → first block: node, the engine from dist/ (or tsx), plugin bundles (cached) and their 1 s trials)`,
        `  RSS after start: ${rss.toFixed(1)} MiB`,
        `  OSC round trip /engine/status: p50 ${quantile(rtts, 0.5).toFixed(3)} ms, p99 ${quantile(rtts, 0.99).toFixed(3)} ms`,
        `  block render time (whole run, 10 µs bins): p50 ${pct(after.blockMs.p50)}, p99 ${pct(after.blockMs.p99)}, p99.9 ${pct(after.blockMs.p999)}, max ${pct(after.blockMs.max)}`,
        `  xruns: ${after.xruns - before.xruns} during the measured ${seconds} s (${after.xruns} since start)`,
        '',
      ].join('\n'),
    );
  } finally {
    await client.close();
    await engine.stop();
  }
}

for (const n of voiceCounts) await run(n);

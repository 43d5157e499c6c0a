/**
 * Where the audio path allocates (it should not): 10 s of 32 saw voices through every effect,
 * offline, under V8's sampling heap profiler (collected objects included). Prints the top sites.
 * First `--warmup` blocks are rendered unmeasured: code still running in V8's interpreter or
 * baseline tier boxes every floating-point intermediate, so a short warm-up (e.g. 200 blocks) shows
 * start-up allocation, not the steady state (20,000 blocks, ≈ 107 s of audio, reaches it).
 *
 *   npm run bench -- audio-alloc [--warmup 20000]
 */
import inspector from 'node:inspector';
import { parseArgs } from 'node:util';
import { OfflineEngine } from '../test/helpers/offline-engine.ts';
const e = await OfflineEngine.start({ configure: (c) => { c.engine.stageSeconds = 0; c.engine.numVoices = 32; } });
for (let v = 1; v <= 32; v++) { await e.send(`/mod/voice${v}/osc/type`, [1]); await e.send(`/mod/voice${v}/send/reverb`, [0.3]); await e.send(`/mod/voice${v}/send/delay`, [0.2]); await e.send(`/mod/voice${v}/send/chorus`, [0.2]); await e.send(`/gate/voice${v}`, [1]); }
await e.send('/mod/dist1/drive', [0.3]); await e.send('/mod/dist1/mix', [0.5]);
const { values } = parseArgs({ options: { warmup: { type: 'string', default: '20000' } } });
const warmup = Number(values.warmup);
for (let i = 0; i < warmup; i++) e.host.render();
const s = new inspector.Session(); s.connect();
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}
const post = <T,>(m: string, p?: object) => new Promise<T>((res, rej) => s.post(m, p ?? {}, (err, r) => (err ? rej(err) : res(r as T))));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < 1875; i++) e.host.render();
const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
const totals = new Map<string, number>();
const walk = (n: ProfileNode, stack: string[]) => {
  const f = n.callFrame; const here = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  const self = n.selfSize; if (self > 0) { const key = [here, ...stack.slice(-2)].join(' <- '); totals.set(key, (totals.get(key) ?? 0) + self); }
  for (const c of n.children) walk(c, [...stack, here]);
};
walk(profile.head, []);
const total = [...totals.values()].reduce((a, b) => a + b, 0);
console.log(`after ${warmup} blocks of warm-up, allocated on the audio path: ${(total / 1024).toFixed(0)} KiB in 1875 blocks (${(total / 1875).toFixed(0)} bytes per block); top sites:`);
console.log([...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `  ${(v / 1024).toFixed(0)} KiB  ${k}`).join('\n'));
await e.close();

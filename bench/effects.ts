/**
 * Effect figures: the CPU cost of each effect's DSP (dist1, reverb1, delay1, limiter1) on 60 s of
 * white noise at 48 kHz in 256-frame blocks (stereo, and mono where the effect links its sides), as
 * a share of real time and in ns per stereo frame; what the sends cost when idle (silent input after
 * their tails died); and the whole chain as the reference workload uses it (WORKLOAD.md: soft clip,
 * Freeverb room 0.8, delay 375 ms / 0.4, on the mono voice sum). Single thread, the DSP classes
 * called directly; nothing is asserted.
 *
 *   npm run bench -- effects [--seconds 60]
 */
import { parseArgs } from 'node:util';
import { DelayDsp, MAX_TIME_S } from '../plugins/delay/dsp.ts';
import { DistortionDsp } from '../plugins/distortion/dsp.ts';
import { LimiterDsp } from '../plugins/limiter/dsp.ts';
import { ReverbDsp } from '../plugins/reverb/dsp.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const FS = 48000;
const BLOCK = 256;
const seconds = Number(values.seconds);
const frames = Math.round(seconds * FS);

const noiseL = new Float32Array(BLOCK);
const noiseR = new Float32Array(BLOCK);
let seed = 0x1234567;
for (let i = 0; i < BLOCK; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) | 0;
  noiseL[i] = ((seed >>> 8) / (1 << 24)) * 2 - 1;
  seed = (Math.imul(seed, 1103515245) + 12345) | 0;
  noiseR[i] = ((seed >>> 8) / (1 << 24)) * 2 - 1;
}
const silent = new Float32Array(BLOCK);
const l = new Float32Array(BLOCK);
const r = new Float32Array(BLOCK);
const outL = new Float32Array(BLOCK);
const outR = new Float32Array(BLOCK);

function time(label: string, block: () => void): void {
  // Warm up (JIT), then measure.
  for (let b = 0; b < 2000; b++) block();
  const blocks = Math.ceil(frames / BLOCK);
  const t0 = performance.now();
  for (let b = 0; b < blocks; b++) block();
  const ms = performance.now() - t0;
  const audioMs = (blocks * BLOCK * 1000) / FS;
  const nsPerFrame = (ms * 1e6) / (blocks * BLOCK);
  process.stdout.write(`  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms for ${(audioMs / 1000).toFixed(0)} s  = ${((100 * ms) / audioMs).toFixed(3).padStart(6)} % of real time, ${nsPerFrame.toFixed(1).padStart(6)} ns/frame\n`);
}

process.stdout.write(`effects on ${seconds} s of stereo white noise, ${FS} Hz, ${BLOCK}-frame blocks:\n`);

const dist = new DistortionDsp(FS, BLOCK);
time('dist1 (drive 0.5, mix 1: 2x oversampled ADAA)', () => {
  l.set(noiseL);
  r.set(noiseR);
  dist.setParams(0.5, 1, 0.5);
  dist.process(l, r, 0, BLOCK);
});
const distMono = new DistortionDsp(FS, BLOCK);
time('dist1, mono input (one side computed)', () => {
  l.set(noiseL);
  r.set(noiseL);
  distMono.setParams(0.5, 1, 0.5);
  distMono.process(l, r, 0, BLOCK);
});
const distOff = new DistortionDsp(FS, BLOCK);
time('dist1 at mix 0 (bypassed)', () => {
  distOff.setParams(0.5, 0, 0.5);
  distOff.process(l, r, 0, BLOCK);
});

const rev = new ReverbDsp(FS, BLOCK);
time('reverb1 (room 0.8, damp 0.5)', () => {
  rev.setParams(0.3, 0.8, 0.5);
  rev.process(noiseL, noiseR, outL, outR, 0, BLOCK);
});
const revIdle = new ReverbDsp(FS, BLOCK);
time('reverb1 idle (silent send)', () => {
  revIdle.setParams(0.3, 0.8, 0.5);
  revIdle.process(silent, silent, outL, outR, 0, BLOCK);
});

const del = new DelayDsp(FS, MAX_TIME_S, BLOCK);
time('delay1 (0.375 s, feedback 0.4, filters)', () => {
  del.setParams(0.375, 0.4, 0.25, 100, 5000);
  del.process(noiseL, noiseR, outL, outR, 0, BLOCK);
});
const delMono = new DelayDsp(FS, MAX_TIME_S, BLOCK);
time('delay1, mono input (one line runs)', () => {
  delMono.setParams(0.375, 0.4, 0.25, 100, 5000);
  delMono.process(noiseL, noiseL, outL, outR, 0, BLOCK);
});
const delIdle = new DelayDsp(FS, MAX_TIME_S, BLOCK);
time('delay1 idle (silent send)', () => {
  delIdle.setParams(0.375, 0.4, 0.25, 100, 5000);
  delIdle.process(silent, silent, outL, outR, 0, BLOCK);
});

const lim = new LimiterDsp(FS);
time('limiter1 (ceiling -1 dB, input 0 dBFS noise)', () => {
  l.set(noiseL);
  r.set(noiseR);
  lim.setParams(-1, 100);
  lim.process(l, r, 0, BLOCK);
});

const d2 = new DistortionDsp(FS, BLOCK);
const r2 = new ReverbDsp(FS, BLOCK);
const dl2 = new DelayDsp(FS, MAX_TIME_S, BLOCK);
const l2 = new LimiterDsp(FS);
time('whole chain on mono input (as voices send)', () => {
  l.set(noiseL);
  r.set(noiseL);
  d2.setParams(0.3, 0.5, 0.5);
  d2.process(l, r, 0, BLOCK);
  outL.set(l);
  outR.set(r);
  r2.setParams(0.3, 0.8, 0.5);
  r2.process(l, r, outL, outR, 0, BLOCK);
  dl2.setParams(0.375, 0.4, 0.25, 20, 10000);
  dl2.process(l, r, outL, outR, 0, BLOCK);
  l2.setParams(-1, 100);
  l2.process(outL, outR, 0, BLOCK);
});

// `npm run kit` (node --import tsx scripts/make-kit.ts [--out <dir>]): synthesises the sampler's
// drum kit — kick, snare, hats, clap, toms, cowbell — and writes it as 48 kHz mono 16-bit WAV files
// into plugins/sampler/samples/ (or <dir>). Nothing is downloaded and nothing is random: noise comes
// from a seeded xorshift, so the files are the same bytes on every run (test/plugins/sampler-kit.test.ts
// checks that the committed files are what this script makes). Self-contained on purpose: a change to
// the SDK's DSP must not change the kit.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import wavefilePkg from 'wavefile';

export const KIT_RATE = 48000;
const SR = KIT_RATE;
const TAU = 2 * Math.PI;

/** Deterministic white noise in [-1, 1). */
function noise(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2147483648 - 1;
  };
}

/** An RBJ biquad (direct form I) over a whole signal, in place. */
function biquad(x: Float64Array, type: 'highpass' | 'bandpass' | 'lowpass', freq: number, q: number): Float64Array {
  const w = (TAU * freq) / SR;
  const cos = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  let b0: number, b1: number, b2: number;
  if (type === 'highpass') [b0, b1, b2] = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
  else if (type === 'lowpass') [b0, b1, b2] = [(1 - cos) / 2, 1 - cos, (1 - cos) / 2];
  else [b0, b1, b2] = [alpha, 0, -alpha];
  const a0 = 1 + alpha;
  const a1 = -2 * cos;
  const a2 = 1 - alpha;
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const y = (b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1;
    x1 = x[i];
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
  return x;
}

/** e^(-t/τ) with τ so that it falls by 60 dB over `seconds`. */
function decay(t: number, seconds: number): number {
  return Math.exp((Math.log(0.001) * t) / seconds);
}

/** A sine whose frequency glides exponentially from `f0` to `f1` with time constant `tau`, under a decay. */
function sweptSine(seconds: number, f0: number, f1: number, tau: number, decaySeconds: number): Float64Array {
  const x = new Float64Array(Math.round(seconds * SR));
  let phase = 0;
  for (let i = 0; i < x.length; i++) {
    const t = i / SR;
    const f = f1 + (f0 - f1) * Math.exp(-t / tau);
    x[i] = Math.sin(phase) * decay(t, decaySeconds);
    phase += (TAU * f) / SR;
  }
  return x;
}

function noiseBurst(seconds: number, seed: number, decaySeconds: number): Float64Array {
  const rnd = noise(seed);
  const x = new Float64Array(Math.round(seconds * SR));
  for (let i = 0; i < x.length; i++) x[i] = rnd() * decay(i / SR, decaySeconds);
  return x;
}

function mix(...parts: [Float64Array, number][]): Float64Array {
  const out = new Float64Array(Math.max(...parts.map(([p]) => p.length)));
  for (const [p, gain] of parts) for (let i = 0; i < p.length; i++) out[i] += p[i] * gain;
  return out;
}

const kick = () => mix([sweptSine(0.5, 160, 48, 0.04, 0.45), 1], [biquad(noiseBurst(0.01, 11, 0.004), 'lowpass', 3000, 0.7), 0.3]);

const snare = () => mix([sweptSine(0.3, 240, 180, 0.02, 0.12), 0.6], [sweptSine(0.3, 400, 330, 0.02, 0.08), 0.3], [biquad(noiseBurst(0.3, 22, 0.22), 'highpass', 1800, 0.7), 0.8]);

/** The 808's six square waves, band-passed: a metallic hat. */
function metal(seconds: number, decaySeconds: number, seed: number): Float64Array {
  const freqs = [205.3, 304.4, 369.6, 522.7, 540, 800];
  const x = new Float64Array(Math.round(seconds * SR));
  for (const f of freqs) for (let i = 0; i < x.length; i++) x[i] += Math.sin((TAU * f * i) / SR) >= 0 ? 1 : -1;
  const n = noiseBurst(seconds, seed, seconds);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] / 6 + 0.5 * n[i]) * decay(i / SR, decaySeconds);
  return biquad(biquad(x, 'bandpass', 9000, 0.8), 'highpass', 6000, 0.7);
}

const closedHat = () => metal(0.12, 0.06, 33);
const openHat = () => metal(0.5, 0.45, 44);

function clap(): Float64Array {
  const rnd = noise(55);
  const x = new Float64Array(Math.round(0.3 * SR));
  for (let i = 0; i < x.length; i++) {
    const t = i / SR;
    // Three short slaps 10 ms apart, then the room.
    const slap = t < 0.03 ? decay(t % 0.01, 0.012) : 0;
    const tail = t >= 0.02 ? 0.6 * decay(t - 0.02, 0.22) : 0;
    x[i] = rnd() * Math.max(slap, tail);
  }
  return biquad(x, 'bandpass', 1200, 1.2);
}

const lowTom = () => sweptSine(0.5, 130, 92, 0.08, 0.45);
const highTom = () => sweptSine(0.4, 210, 160, 0.06, 0.35);

function cowbell(): Float64Array {
  const x = new Float64Array(Math.round(0.35 * SR));
  for (let i = 0; i < x.length; i++) {
    const t = i / SR;
    const sq = (f: number) => (Math.sin(TAU * f * t) >= 0 ? 1 : -1);
    x[i] = (sq(540) + sq(800)) * 0.5 * (t < 0.01 ? 1 : decay(t - 0.01, 0.3));
  }
  return biquad(x, 'bandpass', 800, 2);
}

/** The kit: file name → signal. drumN is the module that plays it (plugins/sampler/kit-files.ts). */
const KIT: readonly [string, () => Float64Array][] = [
  ['drum1-kick.wav', kick],
  ['drum2-snare.wav', snare],
  ['drum3-closed-hat.wav', closedHat],
  ['drum4-open-hat.wav', openHat],
  ['drum5-clap.wav', clap],
  ['drum6-low-tom.wav', lowTom],
  ['drum7-high-tom.wav', highTom],
  ['drum8-cowbell.wav', cowbell],
];

/** Peak at -1 dBFS, the last 5 ms faded out, as 16-bit integers. */
function toInt16(x: Float64Array): Int16Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const gain = peak > 0 ? 10 ** (-1 / 20) / peak : 0;
  const fade = Math.round(0.005 * SR);
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const tail = x.length - i;
    const g = tail < fade ? (gain * tail) / fade : gain;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] * g * 32767)));
  }
  return out;
}

/** Every file of the kit as WAV bytes. */
export function makeKit(): { name: string; bytes: Uint8Array }[] {
  return KIT.map(([name, make]) => {
    const wav = new wavefilePkg.WaveFile();
    wav.fromScratch(1, SR, '16', toInt16(make()));
    return { name, bytes: wav.toBuffer() };
  });
}

export const KIT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../plugins/sampler/samples');

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const dir = path.resolve(values.out ?? KIT_DIR);
  mkdirSync(dir, { recursive: true });
  for (const { name, bytes } of makeKit()) {
    writeFileSync(path.join(dir, name), bytes);
    process.stdout.write(`${path.relative(process.cwd(), path.join(dir, name))} (${bytes.length} bytes)\n`);
  }
}

/**
 * chorus1 (plugins/chorus): the modulated delay lines put an impulse where the formula says — three
 * taps per side within time ± depth, the right side's mirrored at width 1 and equal to the left at
 * width 0 — the taps sweep the whole range over an LFO cycle, feedback decays and the chorus goes
 * idle, extreme and non-finite controls give finite bounded output and a state its schema accepts, a
 * state handed over continues sample for sample. In an engine: a voice's send/chorus puts the chorus
 * on master; at send/chorus 0 the output is that of an engine without the chorus.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_STATE_SAMPLE } from '../../plugin-sdk/types.ts';
import { ChorusDsp, VOICES, type ChorusControls } from '../../plugins/chorus/dsp.ts';
import { ChorusStateSchema } from '../../plugins/chorus/state.ts';
import { OfflineEngine } from '../helpers/offline-engine.ts';
import { energy, peak } from '../helpers/signal.ts';

const FS = 48000;
const BLOCK = 256;

interface Settings {
  time?: number;
  depth?: number;
  rate?: number;
  feedback?: number;
  width?: number;
  mix?: number;
}

function controls(s: Settings): ChorusControls {
  const fill = (v: number) => new Float32Array(BLOCK).fill(v);
  return { time: fill(s.time ?? 15), depth: fill(s.depth ?? 3), rate: fill(s.rate ?? 0.8), feedback: fill(s.feedback ?? 0), width: fill(s.width ?? 1), mix: fill(s.mix ?? 1) };
}

/** `input` (mono on both sides) through a chorus, block by block; the wet output of each side. */
function run(dsp: ChorusDsp, input: Float32Array, c: ChorusControls): { l: Float32Array; r: Float32Array } {
  const l = new Float32Array(input.length);
  const r = new Float32Array(input.length);
  for (let at = 0; at < input.length; at += BLOCK) {
    const n = Math.min(BLOCK, input.length - at);
    const x = input.subarray(at, at + n);
    dsp.process(x, x, l.subarray(at, at + n), r.subarray(at, at + n), 0, n, c);
  }
  return { l, r };
}

const impulse = (frames: number, ...at: number[]) => {
  const x = new Float32Array(frames);
  for (const i of at) x[i] = 1;
  return x;
};

/** Where the taps of a side are (samples), at LFO phase `phase` (cycles): time + depth · sin(2π(phase + j/3) + π·width·side). */
function taps(s: Required<Pick<Settings, 'time' | 'depth' | 'width'>>, phase: number, side: 0 | 1): number[] {
  return Array.from({ length: VOICES }, (_, j) => (s.time + s.depth * Math.sin(2 * Math.PI * (phase + j / VOICES) + Math.PI * s.width * side)) * (FS / 1000));
}

describe('chorus DSP', () => {
  for (const phase of [0.05, 0.3]) {
    test(`an impulse at LFO phase ${phase}: three taps per side where the formula puts them (1/3 each), nothing elsewhere; width 0 makes both sides alike`, () => {
      const s = { time: 10, depth: 5, width: 1 };
      const dsp = new ChorusDsp(FS);
      dsp.setState({ phase });
      const { l, r } = run(dsp, impulse(2048, 0), controls({ ...s, rate: 0 }));
      for (const [side, out] of [[0, l], [1, r]] as const) {
        const where = taps(s, phase, side);
        const near = (i: number) => where.some((d) => i >= Math.floor(d) - 2 && i <= Math.floor(d) + 3);
        for (const d of where) {
          let sum = 0;
          for (let i = Math.floor(d) - 2; i <= Math.floor(d) + 3; i++) sum += out[i];
          // Hermite weights sum to 1: each tap carries 1/3 of the impulse (taps are far enough apart here).
          assert.ok(Math.abs(sum - 1 / VOICES) < 1e-6, `side ${side}: tap at ${d.toFixed(1)} carries ${sum}`);
        }
        for (let i = 0; i < out.length; i++) if (!near(i)) assert.equal(out[i], 0, `side ${side}: nothing at ${i}`);
        const lo = (s.time - s.depth) * (FS / 1000);
        const hi = (s.time + s.depth) * (FS / 1000);
        assert.ok(where.every((d) => d >= lo && d <= hi));
      }
      assert.notDeepEqual(l, r, 'at width 1 the sides differ');
      const mono = new ChorusDsp(FS);
      mono.setState({ phase });
      const alike = run(mono, impulse(2048, 0), controls({ ...s, rate: 0, width: 0 }));
      assert.deepEqual(alike.l, alike.r, 'at width 0 they are the same');
      assert.deepEqual(alike.l, l, 'and both are the left side');
    });
  }

  test('over one LFO cycle the taps sweep time - depth … time + depth and never beyond', () => {
    const s = { time: 20, depth: 8, rate: 1 };
    const spacing = 2400; // impulses 50 ms apart: each one's taps are over before the next arrives
    const frames = FS + spacing;
    const at = Array.from({ length: frames / spacing - 1 }, (_, k) => k * spacing);
    const { l, r } = run(new ChorusDsp(FS), impulse(frames, ...at), controls(s));
    let earliest = Infinity;
    let latest = -Infinity;
    for (const out of [l, r]) {
      for (const t0 of at) {
        for (let i = t0; i < t0 + spacing; i++) {
          if (Math.abs(out[i]) < 1e-9) continue;
          earliest = Math.min(earliest, i - t0);
          latest = Math.max(latest, i - t0);
        }
      }
    }
    const lo = (s.time - s.depth) * (FS / 1000);
    const hi = (s.time + s.depth) * (FS / 1000);
    console.log(`  taps between ${earliest} and ${latest} samples after their impulse (time ± depth: ${lo} … ${hi})`);
    // Hermite spreads a tap over floor(d) − 1 … floor(d) + 2; 20 impulses a cycle meet the extremes within cos(9°).
    assert.ok(earliest >= lo - 2 && earliest <= lo + 5, `earliest ${earliest}`);
    assert.ok(latest <= hi + 3 && latest >= hi - 4, `latest ${latest}`);
  });

  test('with the most feedback an impulse repeats at the loop gain and dies away, the chorus goes idle, and an idle chorus adds nothing', () => {
    const dsp = new ChorusDsp(FS);
    const c = controls({ feedback: 0.8, depth: 0, time: 40 });
    const { l } = run(dsp, impulse(3 * FS, 0), c);
    // Depth 0: the three taps read the same sample, 40 ms (1920 samples) back; each pass × 0.8.
    for (let k = 1; k <= 5; k++) assert.ok(Math.abs(l[1920 * k] - 0.8 ** (k - 1)) < 1e-6, `repeat ${k}: ${l[1920 * k]}`);
    assert.ok(energy(l, 2 * FS, 3 * FS) < 1e-8 * energy(l, 0, FS / 10), 'it dies away');
    assert.ok(dsp.sleeping, 'then sleeps');
    const quiet = run(dsp, new Float32Array(FS / 10), c);
    assert.equal(peak(quiet.l) + peak(quiet.r), 0);
    const woken = run(dsp, impulse(4096, 10), c);
    assert.ok(!dsp.sleeping && peak(woken.l) > 0.1, 'input wakes it');
  });

  test('extreme and non-finite controls and full-scale input stay finite and bounded; the state passes its schema', () => {
    const dsp = new ChorusDsp(FS);
    const wild = [NaN, Infinity, -Infinity, -1e9, 1e9, 0, -1, 1e-30, 5, 40, 0.9];
    let seed = 12345;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
    const c = controls({});
    const x = new Float32Array(BLOCK);
    const l = new Float32Array(BLOCK);
    const r = new Float32Array(BLOCK);
    let worst = 0;
    for (let b = 0; b < 2000; b++) {
      for (const a of Object.values(c) as Float32Array[]) {
        const v = rand() < 0.5 ? wild[Math.floor(rand() * wild.length)] : rand() * 50;
        for (let i = 0; i < BLOCK; i++) a[i] = rand() < 0.05 ? wild[Math.floor(rand() * wild.length)] : v;
      }
      // Full-scale noise, and now and then the kernel's runaway limit (±64).
      const scale = b % 100 < 5 ? 64 : 1;
      for (let i = 0; i < BLOCK; i++) x[i] = (rand() * 2 - 1) * scale;
      l.fill(0);
      r.fill(0);
      dsp.process(x, x, l, r, 0, BLOCK, c);
      for (let i = 0; i < BLOCK; i++) {
        assert.ok(Number.isFinite(l[i]) && Number.isFinite(r[i]), `block ${b}: non-finite output`);
        worst = Math.max(worst, Math.abs(l[i]), Math.abs(r[i]));
      }
    }
    assert.ok(worst < MAX_STATE_SAMPLE, `largest output ${worst}`);
    const state = dsp.getState();
    assert.ok(ChorusStateSchema.safeParse({ v: 1, dsp: state }).success, 'its state passes its schema');
  });

  test('a state handed to a new instance continues sample for sample (hot reload)', () => {
    const noise = new Float32Array(FS);
    let seed = 99;
    for (let i = 0; i < noise.length; i++) noise[i] = ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296) * 2 - 1;
    const c = controls({ feedback: 0.5, depth: 6, rate: 1.3 });
    const a = new ChorusDsp(FS);
    run(a, noise.subarray(0, FS / 2), c);
    const b = new ChorusDsp(FS);
    b.setState(ChorusStateSchema.parse({ v: 1, dsp: structuredClone(a.getState()) }).dsp);
    const rest = noise.subarray(FS / 2);
    assert.deepEqual(run(b, rest, c), run(a, rest, c));
  });
});

describe('chorus in an engine', () => {
  /** A held saw on voice1 with `send` into the chorus (mix 1), 0.5 s of master. */
  async function play(only: string[], send: number | null): Promise<Float32Array> {
    const e = await OfflineEngine.start({ only, configure: (c) => (c.audio.sampleRate = FS) });
    try {
      for (const [p, v] of [['osc/type', 1], ['freq', 220], ['amp', 0.4]] as const) await e.send(`/mod/voice1/${p}`, [v], 0);
      if (send !== null) {
        await e.send('/mod/voice1/send/chorus', [send], 0);
        await e.send('/mod/chorus1/mix', [1], 0);
      }
      await e.send('/gate/voice1', [1], 0);
      return e.render(0.5).l;
    } finally {
      await e.close();
    }
  }

  test('send/chorus 1 puts the chorus on master; send/chorus 0 sounds exactly like no chorus at all', async () => {
    const without = await play(['voices'], null);
    const off = await play(['voices', 'chorus'], 0);
    const on = await play(['voices', 'chorus'], 1);
    assert.deepEqual(off, without, 'a chorus nobody sends to adds nothing');
    const wet = on.map((x, i) => x - without[i]);
    const dry = energy(without);
    console.log(`  chorus path: ${(10 * Math.log10(energy(wet) / dry)).toFixed(1)} dB against the dry voice`);
    assert.ok(energy(wet, 0, 0.01 * FS) === 0, 'nothing in the first 10 ms (its shortest delay is 12 ms at the defaults)');
    assert.ok(energy(wet) > 0.1 * dry, 'and then the chorus, at about the level of the voice');
  });
});

/**
 * Freeverb (plugin-sdk/dsp/freeverb.ts, a WebAssembly SIMD kernel in float32) against a
 * straightforward float64 Freeverb written here from Jezar's description: the same output to float32
 * precision over seconds of noise with room and damp changes between blocks and odd spans (lengths
 * not multiples of 4, single frames), through bus-sized and other arrays; states round-trip exactly
 * and the JavaScript implementation's state (rings starting anywhere) is taken over.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Freeverb,
  FREEVERB_ALLPASS_FEEDBACK,
  FREEVERB_ALLPASS_TUNING,
  FREEVERB_COMB_TUNING,
  FREEVERB_FIXED_GAIN,
  FREEVERB_OFFSET_ROOM,
  FREEVERB_SCALE_DAMP,
  FREEVERB_SCALE_ROOM,
  FREEVERB_STEREO_SPREAD,
  FREEVERB_TUNING_RATE,
  type FreeverbState,
} from '../../plugin-sdk/dsp/freeverb.ts';

/** Jezar's Freeverb, one sample at a time: rings of the delay's length, float64 filter state. */
class ReferenceFreeverb {
  readonly combs: Float32Array[] = [];
  readonly combPos: number[] = [];
  readonly combStore: number[] = [];
  readonly allpasses: Float32Array[] = [];
  readonly allpassPos: number[] = [];
  feedback = 0.5 * FREEVERB_SCALE_ROOM + FREEVERB_OFFSET_ROOM;
  damp1 = 0.5 * FREEVERB_SCALE_DAMP;

  constructor(sampleRate: number) {
    const scale = sampleRate / FREEVERB_TUNING_RATE;
    for (const spread of [0, FREEVERB_STEREO_SPREAD]) {
      for (const t of FREEVERB_COMB_TUNING) this.combs.push(new Float32Array(Math.round((t + spread) * scale)));
      for (const t of FREEVERB_ALLPASS_TUNING) this.allpasses.push(new Float32Array(Math.round((t + spread) * scale)));
    }
    this.combPos = this.combs.map(() => 0);
    this.combStore = this.combs.map(() => 0);
    this.allpassPos = this.allpasses.map(() => 0);
  }

  setRoom(room: number): void {
    this.feedback = Math.min(1, Math.max(0, room)) * FREEVERB_SCALE_ROOM + FREEVERB_OFFSET_ROOM;
  }

  setDamp(damp: number): void {
    this.damp1 = Math.min(1, Math.max(0, damp)) * FREEVERB_SCALE_DAMP;
  }

  process(inL: ArrayLike<number>, inR: ArrayLike<number>, outL: Float64Array, outR: Float64Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const x = (inL[i] + inR[i]) * FREEVERB_FIXED_GAIN;
      for (let ch = 0; ch < 2; ch++) {
        let acc = 0;
        for (let k = ch * 8; k < ch * 8 + 8; k++) {
          const buf = this.combs[k];
          const out = buf[this.combPos[k]];
          this.combStore[k] = out * (1 - this.damp1) + this.combStore[k] * this.damp1;
          buf[this.combPos[k]] = x + this.combStore[k] * this.feedback;
          this.combPos[k] = (this.combPos[k] + 1) % buf.length;
          acc += out;
        }
        for (let a = ch * 4; a < ch * 4 + 4; a++) {
          const buf = this.allpasses[a];
          const o = buf[this.allpassPos[a]];
          buf[this.allpassPos[a]] = acc + o * FREEVERB_ALLPASS_FEEDBACK;
          this.allpassPos[a] = (this.allpassPos[a] + 1) % buf.length;
          acc = o - acc;
        }
        (ch === 0 ? outL : outR)[i] = acc;
      }
    }
  }

  getState(): FreeverbState {
    return {
      v: 1,
      combs: this.combs.map((b) => b.slice()),
      combPos: this.combPos.slice(),
      combStore: this.combStore.slice(),
      allpasses: this.allpasses.map((b) => b.slice()),
      allpassPos: this.allpassPos.slice(),
    };
  }
}

function noise(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return ((s >>> 8) / (1 << 24)) * 2 - 1;
  };
}

/** Largest |a − b| over [start, end) of both channels. */
function maxDiff(a: [ArrayLike<number>, ArrayLike<number>], b: [ArrayLike<number>, ArrayLike<number>], start: number, end: number): number {
  let d = 0;
  for (let ch = 0; ch < 2; ch++) for (let i = start; i < end; i++) d = Math.max(d, Math.abs(a[ch][i] - b[ch][i]));
  return d;
}

/**
 * Renders `seconds` of noise through both, in blocks of `block` frames (arrays `arrayLength` long)
 * split into spans of varied odd lengths, with room and damp changing every 40 blocks. Returns the
 * largest difference and the largest output.
 */
function compare(sampleRate: number, block: number, arrayLength: number, seconds: number): { diff: number; peak: number } {
  const fv = new Freeverb(sampleRate, block);
  const ref = new ReferenceFreeverb(sampleRate);
  const rnd = noise(7);
  const inL = new Float32Array(arrayLength);
  const inR = new Float32Array(arrayLength);
  const out: [Float32Array, Float32Array] = [new Float32Array(arrayLength), new Float32Array(arrayLength)];
  const want: [Float64Array, Float64Array] = [new Float64Array(arrayLength), new Float64Array(arrayLength)];
  const spans = [1, 3, 1, 5, 17, 2, 61, 1, 33, 7];
  let diff = 0;
  let peak = 0;
  const blocks = Math.ceil((seconds * sampleRate) / block);
  for (let b = 0; b < blocks; b++) {
    if (b % 40 === 0) {
      const room = [0.5, 1, 0.2, 0.85][(b / 40) % 4];
      const damp = [0.5, 0, 1, 0.3, 0.77][(b / 40) % 5];
      fv.setRoom(room);
      ref.setRoom(room);
      fv.setDamp(damp);
      ref.setDamp(damp);
    }
    // The block sits at an offset in longer arrays, as a span of a bus would.
    const first = arrayLength - block;
    for (let i = first; i < arrayLength; i++) {
      inL[i] = rnd();
      inR[i] = rnd() * 0.5;
    }
    let s = first;
    for (let k = b % spans.length; s < arrayLength; k = (k + 1) % spans.length) {
      const e = Math.min(arrayLength, s + spans[k] * (b % 3 === 0 ? 1 : 4));
      fv.process(inL, inR, out[0], out[1], s, e);
      ref.process(inL, inR, want[0], want[1], s, e);
      s = e;
    }
    diff = Math.max(diff, maxDiff(out, want, first, arrayLength));
    for (let i = first; i < arrayLength; i++) peak = Math.max(peak, Math.abs(want[0][i]), Math.abs(want[1][i]));
  }
  return { diff, peak };
}

describe('Freeverb kernel against a float64 reference', () => {
  // float32 has 24 bits: 6e-8 of full scale per rounding; the recursion (feedback up to 0.98)
  // accumulates a few dozen of them.
  const TOLERANCE = 2e-6;

  test('4 s of noise at 48 kHz in 256-frame bus arrays, odd spans, room and damp changing', () => {
    const { diff, peak } = compare(48000, 256, 256, 4);
    console.log(`  max difference ${diff.toExponential(2)} at a peak of ${peak.toFixed(2)}`);
    assert.ok(peak > 0.5, 'the reverb rings');
    assert.ok(diff < TOLERANCE * peak, `difference ${diff}`);
  });

  test('arrays longer than maxBlock (copied span by span), 44.1 kHz, 64-frame blocks', () => {
    const { diff, peak } = compare(44100, 64, 200, 3);
    assert.ok(peak > 0.5);
    assert.ok(diff < TOLERANCE * peak, `difference ${diff}`);
  });

  test('maxBlock above the lines\' spare room (the histories move to the front mid-run)', () => {
    const { diff, peak } = compare(48000, 10000, 10000, 2);
    assert.ok(diff < TOLERANCE * peak, `difference ${diff}`);
  });

  test('addWet adds wet × the wet level, ramping from the last span\'s, to bus arrays and others', () => {
    for (const length of [128, 100, 300]) {
      const fv = new Freeverb(48000, 128);
      const rnd = noise(3);
      const inL = new Float32Array(length).map(rnd);
      const inR = new Float32Array(length).map(rnd);
      const scratch = new Float32Array(length);
      fv.setWet(0.2);
      for (let k = 0; k < 20; k++) {
        fv.load(inL, inR, 0, 100);
        fv.run();
        fv.addWet(scratch, scratch);
      }
      const start = 5;
      const end = 98;
      fv.setWet(0.6);
      fv.load(inL, inR, start, end);
      fv.run();
      const outL = new Float32Array(length).fill(0.25);
      const outR = new Float32Array(length).fill(-0.5);
      fv.addWet(outL, outR);
      const n = end - start;
      for (let i = 0; i < length; i++) {
        const inside = i >= start && i < end;
        const g = 0.2 + ((0.6 - 0.2) * (i - start + 1)) / n;
        assert.ok(Math.abs(outL[i] - (0.25 + (inside ? fv.wetL[i - start] * g : 0))) < 1e-6, `L[${i}]`);
        assert.ok(Math.abs(outR[i] - (-0.5 + (inside ? fv.wetR[i - start] * g : 0))) < 1e-6, `R[${i}]`);
      }
    }
  });

  test('load reports a silent span (±0 only, whatever lies outside it); wetBelow bounds the wet signal', () => {
    const fv = new Freeverb(48000, 64);
    const l = new Float32Array(64);
    const r = new Float32Array(64);
    l[2] = 1;
    r[40] = 0.5;
    r[41] = -0;
    assert.equal(fv.load(l, r, 3, 40), true);
    assert.equal(fv.load(l, r, 41, 42), true);
    assert.equal(fv.load(l, r, 2, 3), false);
    assert.equal(fv.load(l, r, 37, 41), false);
    r[50] = NaN;
    assert.equal(fv.load(l, r, 45, 51), false);
    l.fill(0.5);
    fv.load(l, l, 0, 64);
    for (let k = 0; k < 40; k++) fv.run();
    const peak = Math.max(...fv.wetL.subarray(0, 64).map(Math.abs), ...fv.wetR.subarray(0, 64).map(Math.abs));
    assert.ok(peak > 0);
    assert.equal(fv.wetBelow(peak * 1.01), true);
    assert.equal(fv.wetBelow(peak * 0.99), false);
  });
});

describe('Freeverb state', () => {
  function run(fv: Freeverb, seed: number, blocks: number): Float32Array[] {
    const rnd = noise(seed);
    const inL = new Float32Array(128);
    const inR = new Float32Array(128);
    const outs: Float32Array[] = [];
    for (let b = 0; b < blocks; b++) {
      for (let i = 0; i < 128; i++) inL[i] = inR[i] = rnd();
      const l = new Float32Array(128);
      const r = new Float32Array(128);
      fv.process(inL, inR, l, r, 0, 97);
      fv.process(inL, inR, l, r, 97, 128);
      outs.push(l, r);
    }
    return outs;
  }

  test('getState → setState on a fresh instance continues sample for sample, and round-trips', () => {
    const a = new Freeverb(48000, 128);
    a.setRoom(0.9);
    a.setDamp(0.2);
    run(a, 1, 100);
    const b = new Freeverb(48000, 128);
    b.setRoom(0.9);
    b.setDamp(0.2);
    b.setState(structuredClone(a.getState()));
    assert.deepEqual(b.getState(), a.getState());
    assert.deepEqual(run(b, 2, 50), run(a, 2, 50));
  });

  test('takes over the JavaScript Freeverb\'s state (rings starting anywhere, float64 filter state)', () => {
    const ref = new ReferenceFreeverb(48000);
    const rnd = noise(5);
    const inL = new Float32Array(1000).map(rnd);
    const scratch = [new Float64Array(1000), new Float64Array(1000)];
    for (let k = 0; k < 30; k++) ref.process(inL, inL, scratch[0], scratch[1], 0, 1000);
    assert.ok(ref.combPos.some((p) => p !== 0), 'the rings have moved');
    const fv = new Freeverb(48000, 1000);
    fv.setState(ref.getState());
    const out = [new Float32Array(1000), new Float32Array(1000)] as [Float32Array, Float32Array];
    fv.process(inL, inL, out[0], out[1], 0, 1000);
    ref.process(inL, inL, scratch[0], scratch[1], 0, 1000);
    const peak = Math.max(...scratch[0].map(Math.abs));
    assert.ok(maxDiff(out, scratch as [Float64Array, Float64Array], 0, 1000) < 2e-6 * peak);
  });

  test('clear silences the tail; junk input and junk state are survived', () => {
    const fv = new Freeverb(48000, 128);
    run(fv, 4, 20);
    fv.clear();
    const silent = new Float32Array(128);
    const l = new Float32Array(128);
    const r = new Float32Array(128);
    for (let k = 0; k < 20; k++) {
      fv.process(silent, silent, l, r, 0, 128);
      assert.ok(l.every((x) => x === 0) && r.every((x) => x === 0));
    }
    const bad = new Float32Array(128).fill(NaN);
    bad[3] = Infinity;
    fv.process(bad, silent, l, r, 0, 128);
    for (const junk of [null, 7, { combs: [1, 2] }, { combs: new Array(16).fill('x'), combStore: new Array(16).fill(NaN) }]) fv.setState(junk);
    const outs = run(fv, 6, 20);
    assert.ok(outs.every((o) => o.every(Number.isFinite)));
    assert.ok(outs[outs.length - 1].some((x) => x !== 0), 'still reverberating');
  });
});

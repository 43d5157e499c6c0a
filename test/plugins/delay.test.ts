/**
 * delay1 (plugins/delay): an impulse's echo arrives at the set time (within one sample, also at a
 * fractional time), successive echoes decay by the feedback ratio, moving the time while playing
 * makes no discontinuity, echoes survive a hot reload, and an unused delay goes idle. Offline at
 * 48 kHz: probe → send:delay → delay1 → master. And the WebAssembly kernel computes what a
 * straightforward float64 delay written here computes (whole-sample, fractional and moving delays,
 * odd spans, arrays of any length), and takes over such a delay's state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayDsp, MAX_SLEW, type DelayState } from '../../plugins/delay/dsp.ts';
import { nextPowerOfTwo } from '../../plugin-sdk/dsp/delay-line.ts';
import { errors, renderCapture, sendAll, startWith } from '../helpers/effect-engine.ts';
import type { OfflineEngine } from '../helpers/offline-engine.ts';
import { argPeak, energy, maxStep, peak, rms } from '../helpers/signal.ts';

const FS = 48000;

/** An engine whose probe feeds only the delay send; the delay plays wet only with open filters. */
async function rig(settings: readonly (readonly [string, number])[] = []): Promise<OfflineEngine> {
  const e = await startWith(['probe', 'delay']);
  await sendAll(e, [
    ['/mod/probe1/main', 0],
    ['/mod/probe1/delay', 1],
    ['/mod/delay1/mix', 1],
    ['/mod/delay1/lowcut', 20],
    ['/mod/delay1/highcut', 10000],
    ...settings,
  ]);
  renderCapture(e, 4096); // let the kernel's smoothing settle
  return e;
}

/** Opens the probe's gate at the next block; returns the capture starting at that frame. */
async function fire(e: OfflineEngine, seconds: number) {
  const at = e.frame;
  await e.send('/gate/probe1', [1], at);
  const c = renderCapture(e, Math.round(seconds * FS));
  assert.equal(c.frame0, at);
  return c;
}

describe('delay', () => {
  for (const time of [0.25, 0.3127]) {
    test(`the echo of an impulse arrives after ${time} s, within one sample`, async () => {
      const e = await rig([
        ['/mod/probe1/signal', 1],
        ['/mod/delay1/feedback', 0.5],
        ['/mod/delay1/time', time],
      ]);
      try {
        renderCapture(e, 4096);
        const c = await fire(e, 0.8);
        const want = time * FS;
        const first = argPeak(c.busL, 1000, Math.round(want * 1.5));
        const second = argPeak(c.busL, Math.round(want * 1.5), Math.round(want * 2.5));
        console.log(`  time ${time} s = ${want.toFixed(1)} samples: echoes at ${first}, ${second} (L), ${argPeak(c.busR, 1000, Math.round(want * 1.5))} (R)`);
        assert.ok(Math.abs(first - want) <= 1, `first echo at ${first}, want ${want}`);
        assert.ok(Math.abs(argPeak(c.busR, 1000, Math.round(want * 1.5)) - want) <= 1);
        assert.ok(Math.abs(second - 2 * want) <= 2, `second echo at ${second}, want ${2 * want}`);
        assert.ok(peak(c.busL, 0, 1000) === 0, 'nothing before the echo (wet only)');
        assert.deepEqual(errors(e), []);
      } finally {
        await e.close();
      }
    });
  }

  test('successive echoes decay by the feedback ratio (2 kHz burst, lowcut 20 Hz, highcut 10 kHz)', async () => {
    for (const fb of [0.3, 0.6]) {
      const e = await rig([
        ['/mod/probe1/signal', 2],
        ['/mod/probe1/freq', 2000],
        ['/mod/delay1/time', 0.2],
        ['/mod/delay1/feedback', fb],
      ]);
      try {
        const c = await fire(e, 1.05);
        const d = 0.2 * FS;
        const w = Math.round(0.005 * FS);
        const amps: number[] = [];
        for (let k = 1; k <= 5; k++) amps.push(Math.sqrt(energy(c.busL, k * d - w, k * d + 2 * w)));
        const ratios = amps.slice(1).map((a, i) => a / amps[i]);
        console.log(`  feedback ${fb}: echo ratios ${ratios.map((r) => r.toFixed(4)).join(', ')}`);
        for (const r of ratios) assert.ok(Math.abs(r - fb) < 0.02 * fb, `ratio ${r} vs feedback ${fb}`);
      } finally {
        await e.close();
      }
    }
  });

  test('changing the time while playing makes no discontinuity (tape-like glide, bounded steps)', async () => {
    const e = await rig([
      ['/mod/probe1/signal', 3],
      ['/mod/probe1/freq', 440],
      ['/mod/probe1/amp', 0.5],
      ['/mod/delay1/feedback', 0],
      ['/mod/delay1/time', 0.25],
    ]);
    try {
      await e.send('/gate/probe1', [1]);
      renderCapture(e, FS);
      const steady = renderCapture(e, FS / 2);
      const base = maxStep(steady.busL);
      await e.send('/mod/delay1/time', [0.5]);
      const moving = renderCapture(e, FS);
      await e.send('/mod/delay1/time', [0.1]);
      const back = renderCapture(e, FS);
      const up = maxStep(moving.busL);
      const down = maxStep(back.busL);
      console.log(`  max sample-to-sample step: steady ${base.toFixed(4)}, 0.25→0.5 s ${up.toFixed(4)}, 0.5→0.1 s ${down.toFixed(4)}`);
      // The read head runs at 0.5×–1.5× speed while gliding, so a sine's steps grow by at most 1.5×
      // (an instant jump of the read position would step by up to the full 2 × 0.5).
      assert.ok(up <= 1.55 * base, `rising time: ${up} vs ${base}`);
      assert.ok(down <= 1.55 * base, `falling time: ${down} vs ${base}`);
      assert.ok(moving.busL.every(Number.isFinite) && back.busL.every(Number.isFinite));
      const state = (await e.engine.audio.call('getState', 'delay', 'reload')) as { dsp: { delay: number } };
      assert.equal(state.dsp.delay, 0.1 * FS, 'arrived at the new time');
    } finally {
      await e.close();
    }
  });

  test('a hot reload keeps the echoes: after the kernel crossfade, sample for sample', async () => {
    const settings = [
      ['/mod/probe1/signal', 2],
      ['/mod/probe1/freq', 1500],
      ['/mod/delay1/time', 0.15],
      ['/mod/delay1/feedback', 0.7],
    ] as const;
    const a = await rig(settings);
    const b = await rig(settings);
    try {
      await fire(a, 0.5);
      await fire(b, 0.5);
      const plugin = b.engine.plugins.loaded.get('delay');
      assert.ok(plugin);
      await b.engine.plugins.load(plugin.folder);
      const ta = renderCapture(a, FS);
      const tb = renderCapture(b, FS);
      assert.ok(rms(tb.busL) > 1e-3, 'still echoing after the reload');
      const settled = Math.round(0.02 * FS);
      assert.deepEqual(tb.busL.subarray(settled), ta.busL.subarray(settled));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('feedback at its maximum with full-scale noise stays bounded, and the delay idles after the tail', async () => {
    const e = await rig([
      ['/mod/probe1/signal', 4],
      ['/mod/probe1/amp', 1],
      ['/mod/delay1/feedback', 0.7],
      ['/mod/delay1/time', 0.1],
      ['/mod/delay1/lowcut', 20],
      ['/mod/delay1/highcut', 10000],
    ]);
    try {
      const c = await fire(e, 3);
      assert.ok(c.busL.every(Number.isFinite));
      console.log(`  peak with full-scale noise and feedback 0.7: ${peak(c.busL).toFixed(2)}`);
      assert.ok(peak(c.busL) < 6);
      await e.send('/gate/probe1', [0]);
      renderCapture(e, 10 * FS);
      const state = (await e.engine.audio.call('getState', 'delay', 'reload')) as { dsp: { idle: boolean } };
      assert.equal(state.dsp.idle, true);
    } finally {
      await e.close();
    }
  });
});

describe('DelayDsp', () => {
  test('mono input runs one line; when the sides start to differ each side continues exactly', () => {
    const n = 256;
    const blocks = 40;
    const x = (b: number, i: number) => Math.sin((b * n + i) * 0.013) * 0.5;
    const y = (b: number, i: number) => (b < 20 ? x(b, i) : Math.cos((b * n + i) * 0.021) * 0.4);
    const run = (left: (b: number, i: number) => number, right: (b: number, i: number) => number) => {
      const dsp = new DelayDsp(FS, 0.6, n);
      const outL = new Float32Array(blocks * n);
      const outR = new Float32Array(blocks * n);
      for (let b = 0; b < blocks; b++) {
        const inL = new Float32Array(n).map((_, i) => left(b, i));
        const inR = new Float32Array(n).map((_, i) => right(b, i));
        dsp.setParams(0.11, 0.6, 1, 100, 5000);
        dsp.process(inL, inR, outL.subarray(b * n), outR.subarray(b * n), 0, n);
      }
      return { outL, outR };
    };
    const split = run(x, y); // identical for 20 blocks, then different
    const left = run(x, x);
    const right = run(y, y);
    assert.deepEqual(split.outL, left.outL);
    assert.deepEqual(split.outR, right.outR);
    assert.ok(rms(split.outR, 30 * n) > 0.05);
  });

  test('state round-trips; setState tolerates junk and other line lengths', () => {
    const a = new DelayDsp(FS);
    const x = new Float32Array(256).map((_, i) => Math.sin(i));
    const o = new Float32Array(256);
    a.setParams(0.1, 0.5, 1, 100, 5000);
    for (let k = 0; k < 30; k++) a.process(x, x, o, o, 0, 256);
    const b = new DelayDsp(FS);
    b.setParams(0.1, 0.5, 1, 100, 5000);
    b.setState(structuredClone(a.getState()));
    assert.deepEqual(b.getState(), a.getState());
    const c = new DelayDsp(44100);
    c.setState(a.getState());
    for (const junk of [null, 1, { lines: [1, 2] }, { filters: ['a'] }, { delay: -5 }]) c.setState(junk);
  });
});

/**
 * delay1's algorithm one sample at a time in float64 (as plugins/delay/dsp.ts did it in JavaScript):
 * per side a float32 ring, a 4-point Hermite read at the slewed delay, high-pass then low-pass TPT
 * SVFs in the feedback path; idle after a long quiet silence.
 */
class ReferenceDelay {
  readonly size: number;
  readonly lines: Float32Array[];
  pos = 0;
  delay: number;
  readonly ramp = [0, 0, 0, 0, 0, 0];
  readonly st = [new Float64Array(4), new Float64Array(4)];
  hp = [1, 0, 0];
  lp = [1, 0, 0];
  fresh = true;
  idle = true;
  quiet = 0;

  constructor(readonly fs: number) {
    this.size = nextPowerOfTwo(Math.ceil(0.6 * fs) + 8);
    this.lines = [new Float32Array(this.size), new Float32Array(this.size)];
    this.delay = Math.round(0.25 * fs);
  }

  setParams(time: number, feedback: number, mix: number, lowcut: number, highcut: number): void {
    const r = this.ramp;
    r[0] = r[1];
    r[2] = r[3];
    r[4] = r[5];
    r[1] = Math.min(this.size - 3, Math.max(2, time * this.fs));
    r[3] = Math.min(0.99, Math.max(0, feedback));
    r[5] = Math.min(1, Math.max(0, mix));
    if (this.fresh) {
      this.fresh = false;
      r[0] = r[1];
      r[2] = r[3];
      r[4] = r[5];
      this.delay = r[1];
    }
    const gains = (hz: number) => {
      const g = Math.tan((Math.PI * Math.min(0.45 * this.fs, Math.max(1, hz))) / this.fs);
      const a1 = 1 / (1 + g * (g + Math.SQRT2));
      return [a1, g * a1, g * g * a1];
    };
    this.hp = gains(lowcut);
    this.lp = gains(highcut);
  }

  process(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, start: number, end: number): void {
    const n = end - start;
    let silent = true;
    for (let i = start; i < end; i++) if (inL[i] !== 0 || inR[i] !== 0) silent = false;
    if (silent && this.idle) {
      this.delay = this.ramp[1];
      return;
    }
    this.idle = false;
    const [t0, t1, f0, f1, m0, m1] = this.ramp;
    const inv = 1 / n;
    const mask = this.size - 1;
    let pk = 0;
    for (let i = 0; i < n; i++) {
      const k = i + 1;
      const diff = t0 + (t1 - t0) * inv * k - this.delay;
      this.delay += Math.min(MAX_SLEW, Math.max(-MAX_SLEW, diff));
      const di = Math.floor(this.delay);
      const f = this.delay - di;
      for (let ch = 0; ch < 2; ch++) {
        const buf = this.lines[ch];
        const b = this.pos - di;
        const xm1 = buf[(b + 1) & mask], x0 = buf[b & mask], x1 = buf[(b - 1) & mask], x2 = buf[(b - 2) & mask];
        const c1 = 0.5 * (x1 - xm1);
        const c2 = xm1 - 2.5 * x0 + 2 * x1 - 0.5 * x2;
        const c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
        const e = ((c3 * f + c2) * f + c1) * f + x0;
        const s = this.st[ch];
        const svf = (x: number, o: number, [a1, a2, a3]: number[]) => {
          const v3 = x - s[o + 1];
          const v1 = a1 * s[o] + a2 * v3;
          const v2 = s[o + 1] + a2 * s[o] + a3 * v3;
          s[o] = 2 * v1 - s[o];
          s[o + 1] = 2 * v2 - s[o + 1];
          return [v1, v2];
        };
        const [h1, h2] = svf(e, 0, this.hp);
        const [, y] = svf(e - Math.SQRT2 * h1 - h2, 2, this.lp);
        (ch === 0 ? outL : outR)[start + i] += e * (m0 + (m1 - m0) * inv * k);
        const w = (ch === 0 ? inL : inR)[start + i] + (f0 + (f1 - f0) * inv * k) * y;
        buf[this.pos] = Math.abs(w) < 1e6 ? w : 0;
        pk = Math.max(pk, Math.abs(e));
      }
      this.pos = (this.pos + 1) & mask;
    }
    if (silent && pk < 3.2e-6) {
      this.quiet += n;
      if (this.quiet > this.size) {
        for (const l of this.lines) l.fill(0);
        for (const s of this.st) s.fill(0);
        this.pos = 0;
        this.idle = true;
        this.quiet = 0;
      }
    } else {
      this.quiet = 0;
    }
  }

  /** As the JavaScript delay1 saved it (with the right line a copy of the left while both were fed the same). */
  getState(): DelayState {
    return {
      v: 1,
      delay: this.delay,
      idle: this.idle,
      quietFrames: this.quiet,
      linked: false,
      lines: this.lines.map((b) => ({ buffer: b.slice(), pos: this.pos })),
      filters: this.st.map((s) => Array.from(s)),
    };
  }
}

describe('DelayDsp against a float64 reference', () => {
  /** Largest difference over `seconds` of noise (left and right differing half the time, with silences), spans of odd lengths. */
  function compare(times: (block: number, frame: number) => number, arrayLength: number, maxBlock: number, seconds: number): { diff: number; peak: number } {
    const dsp = new DelayDsp(FS, 0.6, maxBlock);
    const ref = new ReferenceDelay(FS);
    let seed = 9;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return ((seed >>> 8) / (1 << 24)) * 2 - 1;
    };
    const inL = new Float32Array(arrayLength);
    const inR = new Float32Array(arrayLength);
    const out = [new Float32Array(arrayLength), new Float32Array(arrayLength)];
    const want = [new Float32Array(arrayLength), new Float32Array(arrayLength)];
    const spans = [1, 3, 32, 7, 32, 64, 5, 2];
    const block = Math.min(256, maxBlock);
    let diff = 0;
    let peak = 0;
    for (let b = 0; b < (seconds * FS) / block; b++) {
      const first = arrayLength - block;
      const quiet = b % 300 > 220;
      for (let i = first; i < arrayLength; i++) {
        inL[i] = quiet ? 0 : rnd();
        inR[i] = b % 100 < 50 ? inL[i] : rnd() * 0.3;
      }
      for (const o of [...out, ...want]) o.fill(0.125);
      const fb = [0.3, 0.7, 0.5][Math.floor(b / 90) % 3];
      const mix = [1, 0.4][Math.floor(b / 70) % 2];
      const cuts = [[20, 10000], [300, 2000], [100, 5000]][Math.floor(b / 110) % 3];
      for (let s = first, k = b; s < arrayLength; k++) {
        const e = Math.min(arrayLength, s + spans[k % spans.length]);
        const t = times(b, s - first);
        dsp.setParams(t, fb, mix, cuts[0], cuts[1]);
        ref.setParams(t, fb, mix, cuts[0], cuts[1]);
        dsp.process(inL, inR, out[0], out[1], s, e);
        ref.process(inL, inR, want[0], want[1], s, e);
        s = e;
      }
      for (let ch = 0; ch < 2; ch++) {
        for (let i = 0; i < arrayLength; i++) {
          diff = Math.max(diff, Math.abs(out[ch][i] - want[ch][i]));
          peak = Math.max(peak, Math.abs(want[ch][i]));
        }
      }
    }
    return { diff, peak };
  }

  // The kernel adds echo × mix in float32 (the reference in float64, rounded once): one or two
  // float32 roundings of the output; the lines and filters themselves compute as the reference does.
  const TOLERANCE = 4e-7;

  test('whole-sample and fractional delays that stay put, in bus-sized arrays', () => {
    for (const time of [0.25, 0.3127, 0.1]) {
      const { diff, peak } = compare(() => time, 256, 256, 3);
      assert.ok(peak > 0.5);
      assert.ok(diff < TOLERANCE * peak, `time ${time}: difference ${diff}`);
    }
  });

  test('a delay that keeps moving (steps every 40 blocks, a ramp inside every span), other array lengths', () => {
    const times = (b: number, frame: number) => [0.1, 0.31, 0.6, 0.2][Math.floor(b / 40) % 4] + (b % 40) * 1e-4 + frame * 1e-6;
    for (const [length, maxBlock] of [[256, 4096], [300, 128]]) {
      const { diff, peak } = compare(times, length, maxBlock, 3);
      assert.ok(peak > 0.5);
      assert.ok(diff < TOLERANCE * peak, `arrays of ${length}, maxBlock ${maxBlock}: difference ${diff}`);
    }
  });

  test('takes over the JavaScript delay\'s state and goes on as it does', () => {
    const ref = new ReferenceDelay(FS);
    const x = new Float32Array(256).map((_, i) => Math.sin(i * 0.1));
    const scratch = new Float32Array(256);
    for (let k = 0; k < 100; k++) {
      ref.setParams(0.2, 0.6, 1, 100, 5000);
      ref.process(x, x, scratch, scratch, 0, 256);
    }
    const dsp = new DelayDsp(FS, 0.6, 256);
    dsp.setParams(0.2, 0.6, 1, 100, 5000);
    dsp.setState(structuredClone(ref.getState()));
    const a = [new Float32Array(256), new Float32Array(256)];
    const b = [new Float32Array(256), new Float32Array(256)];
    for (let k = 0; k < 100; k++) {
      ref.setParams(0.25, 0.6, 1, 100, 5000);
      dsp.setParams(0.25, 0.6, 1, 100, 5000);
      ref.process(x, x, a[0].fill(0), a[1].fill(0), 0, 256);
      dsp.process(x, x, b[0].fill(0), b[1].fill(0), 0, 256);
      for (let ch = 0; ch < 2; ch++) for (let i = 0; i < 256; i++) assert.ok(Math.abs(a[ch][i] - b[ch][i]) < 4e-7, `block ${k}, frame ${i}`);
    }
  });
});

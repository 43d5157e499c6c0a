/**
 * VoiceDsp (plugins/voices/dsp.ts): slide timing, phase continuity under frequency changes, idle
 * handling, per-sample vs constant inputs, state hand-over. Offline at 48 kHz.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Adsr, Oscillator, WAVE_SAW, WAVE_SINE } from '../../plugin-sdk/dsp/index.ts';
import { AMP_MOVING, CTL_AMP, CTL_CUTOFF, CTL_FREQ, CTL_Q, CUTOFF_MOVING, FREQ_MOVING, VoiceDsp } from '../../plugins/voices/dsp.ts';
import { cents, maxStep, peak, upwardCrossings } from '../helpers/signal.ts';

const FS = 48000;

/** A sustaining voice (attack 1 ms, sustain 1) with the filter wide open. */
/** `v.render` with the block's constant inputs (`controls`) given as arguments. */
function render(
  v: VoiceDsp,
  out: Float32Array,
  start: number,
  end: number,
  freq: number,
  amp: number,
  cutoff: number,
  q: number,
  moving: number,
  pre: Float32Array | null = null,
): void {
  v.controls[CTL_FREQ] = freq;
  v.controls[CTL_AMP] = amp;
  v.controls[CTL_CUTOFF] = cutoff;
  v.controls[CTL_Q] = q;
  v.render(out, start, end, moving, pre);
}

function sustainingVoice(waveform: number, freq: number, maxBlock = 256): VoiceDsp {
  const v = new VoiceDsp(FS, maxBlock, 1, freq);
  v.setWaveform(waveform);
  v.setEnvelope(0.001, 0, 1, 0.05);
  v.gate(1);
  return v;
}

/** Frequency of each period between successive upward crossings, with the time (s) it ends. */
function periods(x: Float32Array): { t: number; f: number }[] {
  const c = upwardCrossings(x);
  const out: { t: number; f: number }[] = [];
  for (let k = 1; k < c.length; k++) out.push({ t: c[k] / FS, f: FS / (c[k] - c[k - 1]) });
  return out;
}

describe('VoiceDsp slide (portamento)', () => {
  test('a 100 ms slide from 220 to 440 Hz arrives in 100 ms, gliding in log-frequency', (t) => {
    const block = 240; // the change and the slide end fall on block edges
    const v = sustainingVoice(WAVE_SINE, 220, block);
    v.setSlide(0.1);
    const total = FS / 2;
    const change = 9600; // 0.2 s
    const x = new Float32Array(total);
    let arrivedAt = -1;
    for (let s = 0; s < total; s += block) {
      const f = s < change ? 220 : 440;
      // Frames are block-relative: render [0, block) and place the block.
      render(v, x.subarray(s, s + block), 0, block, f, 1, 8000, Math.SQRT1_2, 0);
      if (arrivedAt < 0 && v.freq === 440) arrivedAt = s + block;
    }
    assert.equal(arrivedAt - change, 0.1 * FS, 'the pitch state reaches 440 Hz exactly slide_time after the change');
    const p = periods(x);
    const after = p.filter((q) => q.t > 0.2 + 0.1 + 0.003);
    const maxAfter = Math.max(...after.map((q) => Math.abs(cents(q.f, 440))));
    const settled = p.find((q) => q.t > 0.2 && Math.abs(cents(q.f, 440)) < 5);
    const mid = p.reduce((a, b) => (Math.abs(b.t - 0.25) < Math.abs(a.t - 0.25) ? b : a));
    // A period ending at time t measures the pitch about half a period earlier.
    const expectedMid = 220 * 2 ** ((mid.t - 0.5 / mid.f - 0.2) / 0.1);
    // The first period measuring within 5 cent of 440 Hz starts this long after the change
    // (resolution: one period, 2.3 ms).
    const settleMs = settled ? (settled.t - 1 / settled.f - 0.2) * 1000 : NaN;
    t.diagnostic(`first period within 5 cent of 440 Hz starts ${settleMs.toFixed(2)} ms after the change; after the slide max ${maxAfter.toFixed(4)} cent; mid-glide ${mid.f.toFixed(2)} Hz vs ${expectedMid.toFixed(2)} Hz`);
    assert.ok(Math.abs(settleMs - 100) < 2.5, `settled at ${settleMs} ms`);
    assert.ok(maxAfter < 0.1, `${maxAfter} cent after the slide`);
    assert.ok(Math.abs(cents(mid.f, expectedMid)) < 10, 'mid-glide pitch follows the log-frequency line');
  });

  test('slide 0 jumps; a slide set mid-glide to 0 jumps at once', () => {
    const v = sustainingVoice(WAVE_SINE, 220);
    const x = new Float32Array(256);
    render(v, x, 0, 256, 330, 1, 8000, 0.707, 0);
    assert.equal(v.freq, 330);
    v.setSlide(1);
    render(v, x, 0, 256, 660, 1, 8000, 0.707, 0);
    assert.ok(v.freq > 330 && v.freq < 660);
    v.setSlide(0);
    render(v, x, 0, 256, 660, 1, 8000, 0.707, 0);
    assert.equal(v.freq, 660);
  });
});

describe('VoiceDsp frequency changes keep the phase continuous', () => {
  const targets = [220, 880, 110, 660, 440];
  function run(smoothMs: number): { step: number; ratio: number } {
    const block = 256;
    const v = sustainingVoice(WAVE_SINE, targets[0], block);
    const total = FS / 2;
    const x = new Float32Array(total);
    const f = new Float64Array(total);
    const a = smoothMs > 0 ? 1 - Math.pow(0.01, 1 / ((smoothMs / 1000) * FS)) : 1;
    let cur = targets[0];
    for (let i = 0; i < total; i++) {
      const target = targets[Math.floor((i / total) * targets.length)];
      cur += a * (target - cur);
      f[i] = cur;
    }
    for (let s = 0; s < total; s += block) {
      for (let i = s; i < s + block; i++) v.freqIn[i - s] = f[i];
      const out = x.subarray(s, s + block);
      render(v, out, 0, block, 0, 1, 8000, Math.SQRT1_2, FREQ_MOVING);
    }
    // Skip the 1 ms attack; compare each step with the largest a unit sine can make at the highest
    // pitch of the last 16 samples (the filter remembers a few samples of the previous pitch).
    let ratio = 0;
    for (let i = 100; i < total; i++) {
      let fmax = 0;
      for (let j = i - 16; j <= i; j++) fmax = Math.max(fmax, f[j]);
      ratio = Math.max(ratio, Math.abs(x[i] - x[i - 1]) / ((2 * Math.PI * fmax) / FS));
    }
    return { step: maxStep(x, 100), ratio };
  }

  test('smoothed (20 ms) changes 220→880→110→660→440 Hz: no step beyond a sine’s own slope', (t) => {
    const { step, ratio } = run(20);
    const bound = ((2 * Math.PI * 880) / FS) * 1.02;
    t.diagnostic(`largest sample step ${step.toFixed(4)} (bound ${bound.toFixed(4)}), largest step / sine slope ${ratio.toFixed(4)}`);
    assert.ok(step <= bound, `step ${step}`);
    assert.ok(ratio < 1.05, `ratio ${ratio}`);
  });

  test('unsmoothed jumps too: the phase never resets', () => {
    const { step, ratio } = run(0);
    assert.ok(step <= ((2 * Math.PI * 880) / FS) * 1.02, `step ${step}`);
    assert.ok(ratio < 1.05, `ratio ${ratio}`);
  });
});

describe('VoiceDsp rendering', () => {
  test('idle writes silence; gate on sounds; gate off reaches idle after release', () => {
    const v = new VoiceDsp(FS, 256, 1, 440);
    v.setWaveform(WAVE_SAW);
    v.setEnvelope(0.01, 0.1, 0.7, 0.05);
    const x = new Float32Array(256).fill(9);
    assert.ok(v.isIdle());
    render(v, x, 0, 256, 440, 0.3, 1000, 2, 0);
    assert.ok(x.every((s) => s === 0));
    v.gate(1);
    for (let b = 0; b < 20; b++) render(v, x, 0, 256, 440, 0.3, 1000, 2, 0);
    assert.ok(peak(x) > 0.05);
    v.gate(0);
    let blocks = 0;
    while (!v.isIdle() && blocks < 100) {
      render(v, x, 0, 256, 440, 0.3, 1000, 2, 0);
      blocks++;
    }
    assert.equal(blocks, Math.ceil((0.05 * FS) / 256));
  });

  test('per-sample inputs holding constants give the constant-input result (to rounding)', () => {
    const a = sustainingVoice(WAVE_SAW, 330);
    const b = sustainingVoice(WAVE_SAW, 330);
    const xa = new Float32Array(256);
    const xb = new Float32Array(256);
    b.freqIn.fill(330);
    b.ampIn.fill(0.5);
    b.cutoffIn.fill(1234);
    for (let k = 0; k < 50; k++) {
      render(a, xa, 0, 256, 330, 0.5, 1234, 3, 0);
      render(b, xb, 0, 256, 0, 0, 0, 3, FREQ_MOVING | AMP_MOVING | CUTOFF_MOVING);
      for (let i = 0; i < 256; i++) assert.ok(Math.abs(xa[i] - xb[i]) < 1e-6, `block ${k} sample ${i}: ${xa[i]} vs ${xb[i]}`);
    }
  });

  test('pre-filter output is oscillator × envelope × amp; the main output is unchanged by asking for it', () => {
    const make = (): VoiceDsp => {
      const v = new VoiceDsp(FS, 256, 1, 1000);
      v.setWaveform(WAVE_SAW);
      v.setEnvelope(0.01, 0.05, 0.5, 0.02);
      v.gate(1);
      return v;
    };
    const a = make();
    const b = make();
    const osc = new Oscillator(FS, 1);
    osc.setWaveform(WAVE_SAW);
    const env = new Adsr(FS);
    env.setTimes(0.01, 0.05, 0.5, 0.02);
    env.gateOn();
    const xa = new Float32Array(256);
    const xb = new Float32Array(256);
    const pre = new Float32Array(256);
    const ref = new Float32Array(256);
    for (let k = 0; k < 40; k++) {
      if (k === 30) {
        a.gate(0);
        b.gate(0);
        env.gateOff();
      }
      render(a, xa, 0, 256, 1000, 0.4, 300, 4, 0, pre);
      render(b, xb, 0, 256, 1000, 0.4, 300, 4, 0);
      osc.process(ref, 0, 256, 1000);
      env.process(ref, 0, 256, 0.4);
      for (let i = 0; i < 256; i++) {
        assert.ok(Math.abs(xa[i] - xb[i]) < 1e-6, 'main output unchanged');
        assert.ok(Math.abs(pre[i] - ref[i]) < 1e-6, 'pre = osc × env × amp');
      }
    }
  });

  test('state hand-over (JSON) continues a held, sliding note without a glitch', () => {
    for (const waveform of [WAVE_SINE, WAVE_SAW]) {
      const a = sustainingVoice(waveform, 220);
      a.setSlide(0.2);
      const x = new Float32Array(256);
      for (let k = 0; k < 20; k++) render(a, x, 0, 256, k < 10 ? 220 : 440, 0.3, 2000, 2, 0);
      const b = new VoiceDsp(FS, 256, 1, 440);
      b.setWaveform(waveform);
      b.setEnvelope(0.001, 0, 1, 0.05);
      b.setSlide(0.2);
      b.setState(JSON.parse(JSON.stringify(a.getState())));
      const xa = new Float32Array(256);
      const xb = new Float32Array(256);
      let worst = 0;
      for (let k = 0; k < 40; k++) {
        render(a, xa, 0, 256, 440, 0.3, 2000, 2, 0);
        render(b, xb, 0, 256, 440, 0.3, 2000, 2, 0);
        for (let i = 0; i < 256; i++) worst = Math.max(worst, Math.abs(xa[i] - xb[i]));
      }
      // Sine continues exactly; saw rebuilds its 16-sample BLEP line at the current pitch (the real
      // past pitch was gliding), so it may differ by a hair (measured ~2e-5, i.e. −94 dB).
      assert.ok(worst < (waveform === WAVE_SINE ? 1e-6 : 1e-4), `waveform ${waveform}: max difference ${worst}`);
      b.setState({});
      b.setState(null);
      b.setState({ freq: 'x', env: 3, osc: { phase: NaN } } as never);
      render(b, xb, 0, 256, 440, 0.3, 2000, 2, 0);
      assert.ok(xb.every((s) => Number.isFinite(s)));
    }
  });

  test('128 saw voices with a per-block cutoff LFO and a gate pattern stay finite and bounded', () => {
    const n = 128;
    const block = 256;
    const voices: VoiceDsp[] = [];
    for (let i = 0; i < n; i++) {
      const v = new VoiceDsp(FS, block, i + 1, 110 * 2 ** (i / 24.2));
      v.setWaveform(WAVE_SAW);
      v.setEnvelope(0.005, 0.1, 0.6, 0.15);
      voices.push(v);
    }
    const x = new Float32Array(block);
    let worst = 0;
    for (let s = 0; s < FS; s += block) {
      const t = s / FS;
      const cutoff = 1200 + 600 * Math.sin(2 * Math.PI * 0.5 * t);
      const phase = t % 0.25;
      for (const v of voices) {
        if (phase < 0.1 && v.isIdle()) v.gate(1);
        if (phase >= 0.1) v.gate(0);
        if (v.isIdle()) continue;
        render(v, x, 0, block, 110, 0.25 / Math.sqrt(n), cutoff, 2, 0);
        worst = Math.max(worst, peak(x));
      }
    }
    assert.ok(Number.isFinite(worst) && worst < 0.1, `peak ${worst}`);
  });
});

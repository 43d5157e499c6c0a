/**
 * Filters and small blocks: SVF and biquad responses (−3 dB at cutoff, resonance peak), stability
 * under per-sample cutoff sweeps, NaN recovery; one-pole smoothing time; DC blocker; utilities.
 * Offline at 48 kHz, measured on rendered sine responses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Biquad, DcBlocker, dbToGain, flushDenormal, gainToDb, OnePole, Oscillator, Svf, tanPade, WAVE_SAW, WAVE_WHITE } from '../../plugin-sdk/dsp/index.ts';
import { peak, rms } from '../helpers/signal.ts';

const FS = 48000;

/** Steady-state gain (dB) of `filter` (in place on a block) for a sine at `freq`. */
function gainDb(filter: (buf: Float32Array) => void, freq: number): number {
  const n = FS; // 1 s: the first half settles, the second is measured
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * freq * i) / FS);
  const y = Float32Array.from(x);
  for (let s = 0; s < n; s += 256) filter(y.subarray(s, Math.min(n, s + 256)));
  // Whole periods in the measured half, so the RMS ratio is exact.
  const from = n / 2;
  const periods = Math.floor(((n - from) * freq) / FS);
  const to = from + Math.round((periods * FS) / freq);
  return 20 * Math.log10(rms(y, from, to) / rms(x, from, to));
}

function svfLowpass(cutoff: number, q: number): (buf: Float32Array) => void {
  const f = new Svf(FS);
  f.setParams(cutoff, q);
  return (buf) => f.processLowpass(buf, 0, buf.length);
}

describe('Svf (TPT state-variable lowpass)', () => {
  for (const cutoff of [100, 1000, 5000, 8000]) {
    test(`Q 0.707, cutoff ${cutoff} Hz: −3.01 dB at the cutoff, flat below, falling above`, (t) => {
      const atCutoff = gainDb(svfLowpass(cutoff, Math.SQRT1_2), cutoff);
      const below = gainDb(svfLowpass(cutoff, Math.SQRT1_2), cutoff / 8);
      const above = gainDb(svfLowpass(cutoff, Math.SQRT1_2), Math.min(cutoff * 2, 23000));
      t.diagnostic(`cutoff ${cutoff} Hz: ${atCutoff.toFixed(3)} dB at cutoff, ${below.toFixed(3)} dB at fc/8, ${above.toFixed(2)} dB at 2·fc`);
      assert.ok(Math.abs(atCutoff + 3.01) < 0.05, `${atCutoff} dB at cutoff`);
      assert.ok(Math.abs(below) < 0.05, `${below} dB at fc/8`);
      assert.ok(above < -11.5, `${above} dB at 2·fc (2-pole: about −12 dB)`);
    });
  }

  test('Q 10: resonance peak of about +20 dB within 1 % of the cutoff', (t) => {
    const cutoff = 1000;
    let best = -Infinity;
    let bestF = 0;
    for (let f = 900; f <= 1100; f += 2) {
      const g = gainDb(svfLowpass(cutoff, 10), f);
      if (g > best) {
        best = g;
        bestF = f;
      }
    }
    t.diagnostic(`peak ${best.toFixed(2)} dB at ${bestF} Hz`);
    assert.ok(Math.abs(bestF - cutoff) <= 10, `peak at ${bestF} Hz`);
    assert.ok(Math.abs(best - 20) < 0.5, `peak gain ${best} dB`);
  });

  test('stable and bounded under per-sample cutoff sweeps 50..8000 Hz at Q 10 (both paths)', () => {
    const seconds = 4;
    const n = seconds * FS;
    const block = 256;
    for (const source of [WAVE_SAW, WAVE_WHITE]) {
      const osc = new Oscillator(FS, 3);
      osc.setWaveform(source);
      const a = new Svf(FS);
      const b = new Svf(FS);
      const bufA = new Float32Array(block);
      const bufB = new Float32Array(block);
      const cutoffs = new Float64Array(block);
      let maxA = 0;
      let maxB = 0;
      for (let s = 0; s < n; s += block) {
        osc.process(bufA, 0, block, 110);
        bufB.set(bufA);
        for (let i = 0; i < block; i++) {
          const t = (s + i) / FS;
          // Alternate fast exponential sweeps (8 Hz triangle in log-frequency) and random jumps.
          const tri = Math.abs(((t * 8) % 2) - 1);
          cutoffs[i] = s % 8192 < 4096 ? 50 * 160 ** tri : 50 + ((s * 7919 + i * 104729) % 7951);
        }
        for (let i = 0; i < block; i++) {
          a.setParams(cutoffs[i], 10);
          bufA[i] = a.lowpass(bufA[i]);
        }
        a.flush();
        b.processLowpassCutoffs(bufB, 0, block, cutoffs, 10);
        maxA = Math.max(maxA, peak(bufA));
        maxB = Math.max(maxB, peak(bufB));
        for (let i = 0; i < block; i++) assert.ok(Math.abs(bufA[i] - bufB[i]) < 1e-4, 'per-sample and block paths agree');
      }
      assert.ok(Number.isFinite(maxA) && maxA < 40, `peak ${maxA}`);
      assert.ok(Number.isFinite(maxB) && maxB < 40, `peak ${maxB}`);
    }
  });

  test('a NaN input sample is flushed at the block end; the next block is clean', () => {
    const f = new Svf(FS);
    f.setParams(1000, 2);
    const buf = new Float32Array(256).fill(0.5);
    buf[10] = NaN;
    f.processLowpass(buf, 0, 256);
    buf.fill(0.5);
    f.processLowpass(buf, 0, 256);
    assert.ok(buf.every((x) => Number.isFinite(x)));
  });

  test('tanPade: the cutoff it implies is within 0.02 cent of exact up to 0.49·fs', () => {
    for (let f = 1; f <= 0.49 * FS; f *= 1.05) {
      const x = (Math.PI * f) / FS;
      const centsOff = 1200 * Math.log2(Math.atan(tanPade(x)) / x);
      assert.ok(Math.abs(centsOff) < 0.02, `at ${f} Hz: ${centsOff} cent`);
    }
  });
});

describe('Biquad (RBJ cookbook)', () => {
  test('lowpass and highpass: −3.01 dB at the cutoff for Q 0.707', (t) => {
    for (const fc of [100, 1000, 5000]) {
      const lp = new Biquad(FS);
      lp.setLowpass(fc, Math.SQRT1_2);
      const hp = new Biquad(FS);
      hp.setHighpass(fc, Math.SQRT1_2);
      const gl = gainDb((b) => lp.processBlock(b, 0, b.length), fc);
      const gh = gainDb((b) => hp.processBlock(b, 0, b.length), fc);
      const passL = gainDb((b) => lp.processBlock(b, 0, b.length), fc / 10);
      const stopH = gainDb((b) => hp.processBlock(b, 0, b.length), fc / 10);
      t.diagnostic(`fc ${fc}: LP ${gl.toFixed(3)} dB, HP ${gh.toFixed(3)} dB at cutoff; LP ${passL.toFixed(3)} dB, HP ${stopH.toFixed(1)} dB at fc/10`);
      assert.ok(Math.abs(gl + 3.01) < 0.05);
      assert.ok(Math.abs(gh + 3.01) < 0.05);
      assert.ok(Math.abs(passL) < 0.05);
      assert.ok(stopH < -38);
    }
  });
});

describe('OnePole, DcBlocker, utilities', () => {
  test('OnePole.setTime(20): a step gets within 1 % in 20 ms (±1 sample)', () => {
    const s = new OnePole(FS);
    s.setTime(20);
    s.reset(0);
    let n = 0;
    while (s.next(1) < 0.99) n++;
    assert.ok(Math.abs(n + 1 - 0.02 * FS) <= 1, `${n + 1} samples`);
  });

  test('OnePole.setCutoff: lowpass −3 dB near the cutoff for a low cutoff', () => {
    const s = new OnePole(FS);
    s.setCutoff(100);
    const g = gainDb((b) => s.processBlock(b, 0, b.length), 100);
    assert.ok(Math.abs(g + 3.01) < 0.1, `${g} dB`);
  });

  test('DcBlocker removes DC and passes 1 kHz', () => {
    const dc = new DcBlocker(FS);
    const buf = new Float32Array(FS).fill(1);
    for (let s = 0; s < FS; s += 256) dc.processBlock(buf, s, Math.min(FS, s + 256));
    assert.ok(Math.abs(buf[FS - 1]) < 1e-3);
    const dc2 = new DcBlocker(FS);
    assert.ok(Math.abs(gainDb((b) => dc2.processBlock(b, 0, b.length), 1000)) < 0.01);
  });

  test('flushDenormal, dbToGain, gainToDb', () => {
    assert.equal(flushDenormal(1e-30), 0);
    assert.equal(flushDenormal(-1e-30), 0);
    assert.equal(flushDenormal(Number.NaN), 0);
    assert.equal(flushDenormal(0.25), 0.25);
    assert.equal(flushDenormal(-1e-10), -1e-10);
    assert.ok(Math.abs(dbToGain(-6.0206) - 0.5) < 1e-4);
    assert.ok(Math.abs(gainToDb(0.5) + 6.0206) < 1e-3);
    assert.equal(gainToDb(0), -240);
  });
});

/**
 * Oscillator: pitch accuracy, aliasing of the band-limited saw/square, noise spectra and bounds.
 * All offline at 48 kHz, measured on rendered samples.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Oscillator, WAVE_BROWN, WAVE_PINK, WAVE_SAW, WAVE_SINE, WAVE_SQUARE, WAVE_WHITE } from '../../plugin-sdk/dsp/index.ts';
import { aliasReport, powerSpectrum, welch } from '../helpers/fft.ts';
import { cents, frequencyByCrossings, peak, renderBlocks, rms, slope } from '../helpers/signal.ts';

const FS = 48000;
const BLOCK = 256;

function render(waveform: number, freq: number, seconds: number, seed = 1): Float32Array {
  const osc = new Oscillator(FS, seed);
  osc.setWaveform(waveform);
  return renderBlocks(Math.round(seconds * FS), BLOCK, (out, s, e) => osc.process(out, s, e, freq));
}

/** Plain 2-point PolyBLEP saw, for comparison only. */
function polyBlepSaw(freq: number, n: number): Float32Array {
  const out = new Float32Array(n);
  const dt = freq / FS;
  let p = 0;
  for (let i = 0; i < n; i++) {
    p += dt;
    if (p >= 1) p -= 1;
    let y = 2 * p - 1;
    if (p < dt) {
      const t = p / dt;
      y -= t + t - t * t - 1;
    } else if (p > 1 - dt) {
      const t = (p - 1) / dt;
      y -= t * t + t + t + 1;
    }
    out[i] = y;
  }
  return out;
}

describe('Oscillator pitch (upward zero crossings, least-squares period over 2 s)', () => {
  const names = ['sine', 'saw', 'square'];
  for (const waveform of [WAVE_SINE, WAVE_SAW, WAVE_SQUARE]) {
    for (const freq of [110, 440, 1234.5]) {
      test(`${names[waveform]} ${freq} Hz within 0.1 cent`, (t) => {
        const x = render(waveform, freq, 2.1);
        const measured = frequencyByCrossings(x, FS, Math.round(0.1 * FS));
        const err = cents(measured, freq);
        t.diagnostic(`${names[waveform]} ${freq} Hz: measured ${measured.toFixed(5)} Hz, error ${err.toExponential(2)} cent`);
        assert.ok(Math.abs(err) < 0.1, `pitch error ${err} cent`);
      });
    }
  }

  test('sine purity: every harmonic below −110 dB (2048-point table, linear interpolation)', (t) => {
    const N = 1 << 16;
    const f = 997;
    const s = powerSpectrum(render(WAVE_SINE, f, (N + 100) / FS), 100, N);
    const lobe = (hz: number): number => {
      const c = Math.round((hz * N) / FS);
      let p = 0;
      for (let k = c - 6; k <= c + 6; k++) p += s[k];
      return p;
    };
    const fundamental = lobe(f);
    let worst = -Infinity;
    for (let h = 2; h * f < 20000; h++) worst = Math.max(worst, 10 * Math.log10(lobe(h * f) / fundamental));
    t.diagnostic(`sine ${f} Hz: strongest harmonic ${worst.toFixed(1)} dB`);
    assert.ok(worst < -110, `${worst} dB`);
  });

  test('per-sample frequency path gives the same pitch as the block path', () => {
    const osc = new Oscillator(FS);
    osc.setWaveform(WAVE_SAW);
    const freqs = new Float64Array(BLOCK).fill(1234.5);
    const x = renderBlocks(2.1 * FS, BLOCK, (out, s, e) => osc.processFreqs(out.subarray(s, e), 0, e - s, freqs));
    assert.ok(Math.abs(cents(frequencyByCrossings(x, FS, 4800), 1234.5)) < 0.1);
    const a = render(WAVE_SAW, 1234.5, 0.2);
    const osc2 = new Oscillator(FS);
    osc2.setWaveform(WAVE_SAW);
    const b = new Float32Array(a.length);
    for (let i = 0; i < b.length; i++) b[i] = osc2.next(1234.5);
    assert.deepEqual(b, a, 'next() and process() produce identical samples');
  });
});

describe('Band-limited saw and square: aliasing (Blackman-Harris, 65536-point FFT)', () => {
  const N = 1 << 16;
  for (const [name, waveform] of [['saw', WAVE_SAW], ['square', WAVE_SQUARE]] as const) {
    for (const freq of [5000, 4321.1, 1234.5]) {
      test(`${name} ${freq} Hz: folded components ≥ 50 dB below the fundamental`, (t) => {
        const x = render(waveform, freq, (N + 4800) / FS);
        const spectrum = powerSpectrum(x, 4800, N);
        const full = aliasReport(spectrum, FS, freq);
        const audible = aliasReport(spectrum, FS, freq, 20000);
        t.diagnostic(
          `${name} ${freq} Hz: alias total ${full.totalDb.toFixed(1)} dB (0–24 kHz), ${audible.totalDb.toFixed(1)} dB (0–20 kHz); ` +
            `strongest ${full.peakDb.toFixed(1)} dB below at ${full.aliasPeakHz.toFixed(0)} Hz`,
        );
        assert.ok(full.totalDb >= 50, `total alias energy only ${full.totalDb.toFixed(1)} dB below the fundamental`);
        assert.ok(full.peakDb >= 50, `strongest alias only ${full.peakDb.toFixed(1)} dB below the fundamental`);
      });
    }
  }

  test('for comparison: plain 2-point PolyBLEP saw at 5 kHz does not reach 50 dB', (t) => {
    const x = polyBlepSaw(5000, N + 4800);
    const r = aliasReport(powerSpectrum(x, 4800, N), FS, 5000);
    t.diagnostic(`PolyBLEP saw 5 kHz: alias total ${r.totalDb.toFixed(1)} dB, strongest ${r.peakDb.toFixed(1)} dB`);
    assert.ok(r.totalDb < 50);
  });

  test('harmonics keep their level: saw 1 kHz harmonics within 0.2 dB of 1/k up to 16 kHz', () => {
    const f = 1000;
    const x = render(WAVE_SAW, f, (N + 4800) / FS);
    const s = powerSpectrum(x, 4800, N);
    const lobe = (hz: number): number => {
      const c = Math.round((hz * N) / FS);
      let p = 0;
      for (let k = c - 6; k <= c + 6; k++) p += s[k];
      return p;
    };
    const fundamental = lobe(f);
    assert.ok(Math.abs(10 * Math.log10(fundamental) - 10 * Math.log10(2 / Math.PI ** 2)) < 0.05, 'fundamental amplitude 2/π');
    for (let k = 2; k * f <= 16000; k++) {
      const db = 10 * Math.log10(lobe(k * f) / fundamental) + 20 * Math.log10(k);
      assert.ok(Math.abs(db) < 0.2, `harmonic ${k}: ${db.toFixed(2)} dB off 1/k`);
    }
  });

  test('saw and square stay within ±1.3 (Gibbs) and have no DC', () => {
    for (const w of [WAVE_SAW, WAVE_SQUARE]) {
      const x = render(w, 5000, 1);
      assert.ok(peak(x) < 1.3, `peak ${peak(x)}`); // Gibbs overshoot of a band-limited edge
      let dc = 0;
      for (let i = 4800; i < x.length; i++) dc += x[i];
      assert.ok(Math.abs(dc / (x.length - 4800)) < 1e-3);
    }
  });

  test('switching waveform mid-note and a frequency change per sample stay finite and bounded', () => {
    const osc = new Oscillator(FS);
    const freqs = new Float64Array(BLOCK);
    let f = 20;
    const x = renderBlocks(FS, BLOCK, (out, s, e) => {
      osc.setWaveform((s / BLOCK) % 6);
      for (let i = s; i < e; i++) {
        f = f > 20000 ? 20 : f * 1.001;
        freqs[i - s] = f;
      }
      osc.processFreqs(out.subarray(s, e), 0, e - s, freqs);
    });
    assert.ok(peak(x) < 1.5, `peak ${peak(x)}`);
  });
});

describe('Noise', () => {
  /** Mean power density per octave band (dB) at band starts 125, 250, …; returns the fitted dB/octave. */
  function octaveSlope(x: Float32Array, first = 125, bands = 7): { slope: number; levels: number[] } {
    const n = 4096;
    const s = welch(x, n);
    const octaves: number[] = [];
    const levels: number[] = [];
    for (let b = 0; b < bands; b++) {
      const lo = first * 2 ** b;
      const k0 = Math.ceil((lo * n) / FS);
      const k1 = Math.ceil((2 * lo * n) / FS);
      let p = 0;
      for (let k = k0; k < k1; k++) p += s[k];
      octaves.push(b);
      levels.push(10 * Math.log10(p / (k1 - k0)));
    }
    return { slope: slope(octaves, levels), levels };
  }

  const cases = [
    { name: 'white', waveform: WAVE_WHITE, expected: 0, tolerance: 0.3, bands: 7 },
    { name: 'pink', waveform: WAVE_PINK, expected: -3.01, tolerance: 0.5, bands: 7 },
    { name: 'brown', waveform: WAVE_BROWN, expected: -6.02, tolerance: 0.5, bands: 6 },
  ];
  for (const c of cases) {
    test(`${c.name} noise: ${c.expected} dB/octave (±${c.tolerance}) from 125 Hz, bounded by ±1`, (t) => {
      const x = render(c.waveform, 440, 10);
      const { slope: sl, levels } = octaveSlope(x, 125, c.bands);
      const r = rms(x);
      const pk = peak(x);
      t.diagnostic(`${c.name}: slope ${sl.toFixed(2)} dB/oct, RMS ${r.toFixed(3)}, peak ${pk.toFixed(3)}, octave levels ${levels.map((l) => l.toFixed(1)).join(' ')}`);
      assert.ok(Math.abs(sl - c.expected) <= c.tolerance, `slope ${sl.toFixed(2)} dB/oct`);
      assert.ok(pk <= 1, `peak ${pk}`);
      assert.ok(r > 0.1 && r < 0.7, `RMS ${r}`);
    });
  }

  test('noise is deterministic per seed and differs between seeds', () => {
    const a = render(WAVE_WHITE, 0, 0.05, 7);
    const b = render(WAVE_WHITE, 0, 0.05, 7);
    const c = render(WAVE_WHITE, 0, 0.05, 8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

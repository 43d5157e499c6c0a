/**
 * dist1 (plugins/distortion): harmonic distortion rises with drive, no DC leaves it, it stays finite
 * and bounded at full drive on a full-scale 40 Hz sine, and the oversampled ADAA shaper keeps
 * aliasing down. Offline at 48 kHz, through the engine (probe source → main → dist1 → master) and
 * on the DSP class directly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DistortionDsp } from '../../plugins/distortion/dsp.ts';
import { Downsampler2x, halfbandAttenuationDb, Upsampler2x } from '../../plugin-sdk/dsp/oversampler.ts';
import { aliasReport, powerSpectrum } from '../helpers/fft.ts';
import { errors, renderCapture, sendAll, startWith } from '../helpers/effect-engine.ts';
import type { OfflineEngine } from '../helpers/offline-engine.ts';
import { dbfs, mean, peak, rms, thd } from '../helpers/signal.ts';

const FS = 48000;

describe('distortion in the engine', () => {
  let e: OfflineEngine;
  before(async () => {
    e = await startWith(['probe', 'distortion']);
  });
  after(() => e.close());

  test('THD of a 440 Hz sine rises with drive (mix 1)', async () => {
    await sendAll(e, [
      ['/mod/probe1/signal', 3],
      ['/mod/probe1/freq', 440],
      ['/mod/probe1/amp', 0.5],
      ['/mod/dist1/mix', 1],
      ['/mod/dist1/tone', 1],
    ]);
    await e.send('/gate/probe1', [1]);
    const figures: number[] = [];
    for (const drive of [0.1, 0.5, 1]) {
      await e.send('/mod/dist1/drive', [drive]);
      const c = renderCapture(e, 12000 + 32768, 'main');
      const t = thd(c.busL, FS, 440, 12000);
      figures.push(t.ratio);
      assert.ok(Number.isFinite(t.ratio));
    }
    console.log(`  THD at drive 0.1 / 0.5 / 1: ${figures.map((r) => (100 * r).toFixed(1) + ' %').join(' / ')}`);
    assert.ok(figures[0] < figures[1] && figures[1] < figures[2], `THD must rise with drive: ${figures.join(', ')}`);
    assert.ok(figures[0] < 0.08, `drive 0.1 is mild (${figures[0]})`);
    assert.ok(figures[2] > 0.3, `drive 1 is heavy (${figures[2]})`);
    assert.deepEqual(errors(e), []);
    await e.send('/gate/probe1', [0]);
  });

  test('no DC at the output (< -60 dBFS), even with a DC offset in and the asymmetric shaper at full drive', async () => {
    await sendAll(e, [
      ['/mod/probe1/signal', 3],
      ['/mod/probe1/freq', 40],
      ['/mod/probe1/amp', 1],
      ['/mod/probe1/dc', 0.3],
      ['/mod/dist1/drive', 1],
      ['/mod/dist1/mix', 1],
      ['/mod/dist1/tone', 0.5],
    ]);
    await e.send('/gate/probe1', [1]);
    renderCapture(e, FS, 'main');
    const c = renderCapture(e, FS, 'main'); // 1 s = 40 whole periods
    const dcL = Math.abs(mean(c.busL));
    const dcR = Math.abs(mean(c.busR));
    console.log(`  DC at the output: ${dbfs(Math.max(dcL, dcR)).toFixed(1)} dBFS (signal RMS ${dbfs(rms(c.busL)).toFixed(1)} dBFS)`);
    assert.ok(dbfs(dcL) < -60 && dbfs(dcR) < -60, `DC ${dcL}, ${dcR}`);
    await e.send('/gate/probe1', [0]);
    await e.send('/mod/probe1/dc', [0]);
  });

  test('finite and bounded at full drive on a full-scale 40 Hz sine (tone 0 and 1)', async () => {
    await sendAll(e, [
      ['/mod/probe1/signal', 3],
      ['/mod/probe1/freq', 40],
      ['/mod/probe1/amp', 1],
      ['/mod/dist1/drive', 1],
      ['/mod/dist1/mix', 1],
    ]);
    await e.send('/gate/probe1', [1]);
    for (const tone of [0, 1]) {
      await e.send('/mod/dist1/tone', [tone]);
      const c = renderCapture(e, 2 * FS, 'main');
      for (const x of [c.busL, c.busR]) {
        assert.ok(x.every(Number.isFinite), 'finite');
        assert.ok(peak(x) <= 1, `bounded below full scale before the kernel's clip: peak ${peak(x)} at tone ${tone}`);
        assert.ok(rms(x) > 0.05, 'and not silent');
      }
    }
    const status = await e.engine.audio.call('plugins');
    assert.equal(status.find((p) => p.pluginId === 'distortion')?.faults, 0);
    await e.send('/gate/probe1', [0]);
  });

  test('mix 0 passes the input through untouched', async () => {
    await sendAll(e, [
      ['/mod/probe1/signal', 4],
      ['/mod/probe1/amp', 0.5],
      ['/mod/dist1/drive', 1],
      ['/mod/dist1/mix', 0],
    ]);
    renderCapture(e, 4096, 'main');
    await e.send('/gate/probe1', [1]);
    const withDist = renderCapture(e, 8192, 'main');
    await e.send('/gate/probe1', [0]);
    assert.ok(rms(withDist.busL) > 0.2);
    // White noise uniform in ±0.5 has every |sample| ≤ 0.5: a distortion would change that shape.
    assert.ok(peak(withDist.busL) <= 0.5);
    const e2 = await startWith(['probe']);
    try {
      await sendAll(e2, [
        ['/mod/probe1/signal', 4],
        ['/mod/probe1/amp', 0.5],
      ]);
      renderCapture(e2, 4096, 'main');
      await e2.send('/gate/probe1', [1]);
      const dry = renderCapture(e2, 8192, 'main');
      assert.deepEqual(withDist.busL, dry.busL);
    } finally {
      await e2.close();
    }
  });
});

describe('2x oversampler (plugin-sdk/dsp/oversampler.ts)', () => {
  const lobe = (spec: Float64Array, bin: number) => {
    let s = 0;
    for (let k = bin - 6; k <= bin + 6; k++) s += spec[k];
    return s;
  };

  test('flat to 20 kHz; images of the upsampler and aliases into the downsampler ≥ 90 dB down', () => {
    const n = 16384;
    assert.ok(halfbandAttenuationDb(6, 0.08) > 94);
    for (const f of [1000, 10000, 20000]) {
      const x = new Float64Array(n).map((_, i) => Math.sin((2 * Math.PI * f * i) / FS));
      const up = new Float64Array(2 * n);
      new Upsampler2x().processBlock(x, 0, n, up);
      const su = powerSpectrum(up, n, n); // at 96 kHz
      const gainDb = 10 * Math.log10(lobe(su, Math.round((f * n) / 96000)) / 0.5);
      const imageDb = 10 * Math.log10(lobe(su, Math.round(((FS - f) * n) / 96000)) / 0.5);
      const round = new Float64Array(n);
      new Downsampler2x().processBlock(up, round, 0, n);
      const sr = powerSpectrum(round, n / 2, n / 2);
      const roundDb = 10 * Math.log10(lobe(sr, Math.round((f * (n / 2)) / FS)) / 0.5);
      // A 96 kHz tone between 28 and 48 kHz must not fold back into the audio band.
      const hi = new Float64Array(2 * n).map((_, i) => Math.sin((2 * Math.PI * (FS - f) * i) / (2 * FS)));
      const folded = new Float64Array(n);
      new Downsampler2x().processBlock(hi, folded, 0, n);
      const aliasDb = 20 * Math.log10(rms(folded, n / 4) / Math.SQRT1_2);
      assert.ok(Math.abs(gainDb) < 0.01 && Math.abs(roundDb) < 0.01, `${f} Hz: gain ${gainDb} dB, round trip ${roundDb} dB`);
      if (f <= 10000) {
        assert.ok(imageDb < -90, `${f} Hz: image at ${FS - f} Hz ${imageDb} dB`);
        assert.ok(aliasDb < -90, `${FS - f} Hz at 96 kHz folds to ${f} Hz at ${aliasDb} dB`);
      }
    }
  });
});

describe('DistortionDsp', () => {
  function run(freq: number, options: { oversample?: boolean; adaa?: boolean }, drive = 1, tone = 1): Float32Array {
    const dsp = new DistortionDsp(FS, 256, options);
    const n = 24000 + 32768;
    const l = new Float32Array(n);
    const r = new Float32Array(n);
    for (let i = 0; i < n; i++) l[i] = r[i] = 0.5 * Math.sin((2 * Math.PI * freq * i) / FS);
    for (let s = 0; s < n; s += 256) {
      dsp.setParams(drive, 1, tone);
      dsp.process(l, r, s, Math.min(n, s + 256));
    }
    return l;
  }

  test('2x oversampling with ADAA keeps aliases of a 2.5 kHz sine at full drive > 50 dB down (plain: ~25 dB)', () => {
    const f = 2500; // 48000 / 2500 is not an integer, so folded harmonics land between the true ones
    const good = aliasReport(powerSpectrum(run(f, {}), 24000, 32768), FS, f, 20000);
    const plain = aliasReport(powerSpectrum(run(f, { oversample: false, adaa: false }), 24000, 32768), FS, f, 20000);
    const os = aliasReport(powerSpectrum(run(f, { adaa: false }), 24000, 32768), FS, f, 20000);
    console.log(
      `  strongest alias below the fundamental: plain ${plain.peakDb.toFixed(1)} dB, 2x ${os.peakDb.toFixed(1)} dB, 2x+ADAA ${good.peakDb.toFixed(1)} dB ` +
        `(at ${good.aliasPeakHz.toFixed(0)} Hz)`,
    );
    assert.ok(good.peakDb > 50, `2x+ADAA alias peak ${good.peakDb} dB`);
    assert.ok(good.peakDb > plain.peakDb + 20);
    assert.ok(good.peakDb > os.peakDb + 10);
  });

  test('mono input computes one side; when the sides start to differ each continues exactly', () => {
    const n = 256;
    const blocks = 40;
    const x = (b: number, i: number) => Math.sin((b * n + i) * 0.013) * 0.6;
    const y = (b: number, i: number) => (b < 20 ? x(b, i) : Math.cos((b * n + i) * 0.021) * 0.4);
    const run = (left: (b: number, i: number) => number, right: (b: number, i: number) => number) => {
      const dsp = new DistortionDsp(FS, n);
      const outL = new Float32Array(blocks * n);
      const outR = new Float32Array(blocks * n);
      for (let b = 0; b < blocks; b++) {
        const l = outL.subarray(b * n, (b + 1) * n);
        const r = outR.subarray(b * n, (b + 1) * n);
        for (let i = 0; i < n; i++) {
          l[i] = left(b, i);
          r[i] = right(b, i);
        }
        dsp.setParams(0.7, 0.8, 0.4);
        dsp.process(l, r, 0, n);
      }
      return { outL, outR };
    };
    const split = run(x, y);
    assert.deepEqual(split.outL, run(x, x).outL);
    assert.deepEqual(split.outR, run(y, y).outR);
  });

  test('state round-trips and a restored instance continues identically', () => {
    const a = new DistortionDsp(FS, 256);
    const b = new DistortionDsp(FS, 256);
    const x = new Float32Array(256).map((_, i) => 0.7 * Math.sin(i * 0.05));
    const y = new Float32Array(256);
    a.setParams(0.8, 1, 0.3);
    a.process(x, y, 0, 256);
    b.setState(structuredClone(a.getState()));
    assert.deepEqual(b.getState(), a.getState());
    b.setParams(0.8, 1, 0.3);
    const xa = Float32Array.from(x);
    const ya = Float32Array.from(x);
    const xb = Float32Array.from(x);
    const yb = Float32Array.from(x);
    a.process(xa, ya, 0, 256);
    b.process(xb, yb, 0, 256);
    assert.deepEqual(xb, xa);
    b.setState({ hp1: 'nonsense', up: [null] });
    b.setState(null);
  });
});

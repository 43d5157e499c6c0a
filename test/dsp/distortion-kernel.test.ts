/**
 * dist1's WebAssembly kernel (plugins/distortion/kernel.ts): its log-free ADAA polynomial is accurate,
 * it renders what the float64 JavaScript implementation it replaced rendered (kept below as the
 * reference, sample by sample), and every way of handing it a span gives the same samples.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DistortionDsp, makeupGain, preGain, saturate } from '../../plugins/distortion/dsp.ts';
import { ADAA_POLY } from '../../plugins/distortion/kernel.ts';
import { Downsampler2x, Upsampler2x } from '../../plugin-sdk/dsp/oversampler.ts';

const FS = 48000;
const BLOCK = 256;

/**
 * The previous dist1 wet path for one channel, float64 throughout (TPT filters, the SDK's half-band
 * chains, ADAA through the logarithmic antiderivative), with the same per-call parameter ramps.
 */
class Reference {
  private hp = [0, 0];
  private lp = [0, 0];
  private dc = [0, 0];
  private toneHp = 0;
  private readonly up = new Upsampler2x();
  private readonly down = new Downsampler2x();
  private v1 = 0;
  private f1 = Reference.F(0);
  private readonly x = new Float64Array(BLOCK);
  private readonly x2 = new Float64Array(2 * BLOCK);
  private g = [1, 1, 0, 0];

  static F(u: number): number {
    const F3 = 0.5 + (4 / 3) * Math.log(12);
    if (u >= 3) return u - 3 + F3;
    if (u <= -3) return -u - 3 + F3;
    return (u * u) / 18 + (4 / 3) * Math.log(u * u + 3);
  }

  /** One TPT step of a 2-pole Butterworth (gain g) on state `s`: [high-pass, low-pass]. */
  private static tpt(s: number[], g: number, x: number): [number, number] {
    const a1 = 1 / (1 + g * (g + Math.SQRT2));
    const a2 = g * a1;
    const a3 = g * a2;
    const v3 = x - s[1];
    const v1 = a1 * s[0] + a2 * v3;
    const v2 = s[1] + a2 * s[0] + a3 * v3;
    s[0] = 2 * v1 - s[0];
    s[1] = 2 * v2 - s[1];
    return [x - Math.SQRT2 * v1 - v2, v2];
  }

  /** `buf[0..n)` in place; gains ramp from the previous call's [pre-gain, make-up, dry, wet] to these. */
  process(buf: Float32Array, n: number, drive: number, mix: number, tone: number, first: boolean): void {
    const target = [preGain(drive), makeupGain(drive), mix >= 1 ? 0 : Math.cos((mix * Math.PI) / 2), mix >= 1 ? 1 : Math.sin((mix * Math.PI) / 2)];
    const start = first ? target : this.g;
    this.g = target;
    const ramp = (k: number, i: number) => start[k] + ((target[k] - start[k]) / n) * (i + 1);
    const gIn = Math.tan((Math.PI * 20) / FS);
    for (let i = 0; i < n; i++) this.x[i] = Reference.tpt(this.hp, gIn, buf[i])[0] * ramp(0, i);
    const b = 0.15 * drive;
    const sb = saturate(b);
    this.up.processBlock(this.x, 0, n, this.x2, 0);
    for (let k = 0; k < 2 * n; k++) {
      const v = this.x2[k] + b;
      const fv = Reference.F(v);
      const dv = v - this.v1;
      this.x2[k] = (Math.abs(dv) > 1e-6 ? (fv - this.f1) / dv : saturate(0.5 * (v + this.v1))) - sb;
      this.v1 = v;
      this.f1 = fv;
    }
    this.down.processBlock(this.x2, this.x, 0, n, 0);
    const R = Math.exp((-2 * Math.PI * 10) / FS);
    const gh = Math.tan((Math.PI * 500 * Math.pow(0.2, tone)) / FS);
    const G = gh / (1 + gh);
    const gl = Math.tan((Math.PI * 1000 * Math.pow(8, tone)) / FS);
    for (let i = 0; i < n; i++) {
      const s = this.x[i];
      this.dc[1] = s - this.dc[0] + R * this.dc[1];
      this.dc[0] = s;
      const v = (this.dc[1] - this.toneHp) * G;
      const lp = v + this.toneHp;
      this.toneHp = lp + v;
      const wet = Reference.tpt(this.lp, gl, this.dc[1] - lp)[1];
      buf[i] = buf[i] * ramp(2, i) + wet * ramp(1, i) * ramp(3, i);
    }
  }
}

describe('distortion kernel', () => {
  test('the ADAA polynomial matches (8/3)·atanh(√t)/√t on [0, 0.36] to 1e-8', () => {
    let worst = 0;
    for (let i = 0; i <= 3600; i++) {
      const t = (0.36 * i) / 3600;
      const exact = t === 0 ? 8 / 3 : ((8 / 3) * Math.atanh(Math.sqrt(t))) / Math.sqrt(t);
      const p = ADAA_POLY.reduceRight((acc, a) => acc * t + a, 0);
      worst = Math.max(worst, Math.abs(p - exact));
    }
    assert.ok(worst < 1e-8, `largest error ${worst}`);
  });

  test('renders what the float64 JavaScript implementation rendered (within float32 rounding)', () => {
    const seconds = 2;
    const n = seconds * FS;
    let seed = 12345;
    const noise = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 8) / (1 << 23) - 1;
    const inputs: [string, (i: number, ch: number) => number][] = [
      ['noise', () => noise()],
      ['440 Hz sine', (i, ch) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / FS + ch)],
      ['40 Hz sine + 0.3 DC', (i) => Math.sin((2 * Math.PI * 40 * i) / FS) + 0.3],
    ];
    const report: string[] = [];
    for (const [name, signal] of inputs) {
      // Drive and tone sweep from block to block, so the ramps and coefficient changes are compared too.
      const params = (blk: number): [number, number, number] => [(blk % 97) / 96, 0.3 + 0.7 * ((blk % 13) / 12), (blk % 31) / 30];
      const l = new Float32Array(n);
      const r = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        l[i] = signal(i, 0);
        r[i] = signal(i, 1);
      }
      const refL = Float32Array.from(l);
      const refR = Float32Array.from(r);
      const dsp = new DistortionDsp(FS, BLOCK);
      const ref = [new Reference(), new Reference()];
      for (let s = 0, blk = 0; s < n; s += BLOCK, blk++) {
        const [drive, mix, tone] = params(blk);
        dsp.setParams(drive, mix, tone);
        dsp.process(l, r, s, s + BLOCK);
        ref[0].process(refL.subarray(s, s + BLOCK), BLOCK, drive, mix, tone, blk === 0);
        ref[1].process(refR.subarray(s, s + BLOCK), BLOCK, drive, mix, tone, blk === 0);
      }
      let maxDiff = 0;
      let diff2 = 0;
      let energy = 0;
      for (const [a, b] of [
        [l, refL],
        [r, refR],
      ]) {
        for (let i = 0; i < n; i++) {
          const d = Math.abs(a[i] - b[i]);
          maxDiff = Math.max(maxDiff, d);
          diff2 += d * d;
          energy += b[i] * b[i];
        }
      }
      const relDb = 10 * Math.log10(diff2 / energy);
      report.push(`${name}: max ${maxDiff.toExponential(1)}, ${relDb.toFixed(0)} dB`);
      assert.ok(maxDiff < 2e-6, `${name}: largest difference ${maxDiff}`);
      assert.ok(relDb < -120, `${name}: difference ${relDb.toFixed(1)} dB below the signal`);
    }
    console.log(`  difference to the float64 JS implementation: ${report.join('; ')}`);
  });

  test('spans at any offset, in buffers of any length, render the same samples as whole blocks', () => {
    const blocks = 12;
    const x = (i: number, ch: number) => 0.8 * Math.sin(i * (0.011 + 0.004 * ch)) + 0.2 * Math.sin(i * 0.37);
    const render = (spans: (b: number) => number[], long: boolean) => {
      const dsp = new DistortionDsp(FS, BLOCK);
      const outL = new Float32Array(blocks * BLOCK);
      const outR = new Float32Array(blocks * BLOCK);
      for (let b = 0; b < blocks; b++) {
        // Buses are maxBlock long; a long buffer takes the per-sample copy path.
        const l = long ? outL : outL.subarray(b * BLOCK, (b + 1) * BLOCK);
        const r = long ? outR : outR.subarray(b * BLOCK, (b + 1) * BLOCK);
        const base = long ? b * BLOCK : 0;
        for (let i = 0; i < BLOCK; i++) {
          l[base + i] = x(b * BLOCK + i, 0);
          r[base + i] = x(b * BLOCK + i, 1);
        }
        dsp.setParams(0.6, 1, 0.5);
        const cuts = spans(b);
        for (let k = 0; k + 1 < cuts.length; k++) dsp.process(l, r, base + cuts[k], base + cuts[k + 1]);
      }
      return [outL, outR];
    };
    const whole = render(() => [0, BLOCK], false);
    assert.deepEqual(render((b) => [0, 13 + b, 40, 200, BLOCK], false), whole);
    assert.deepEqual(render(() => [0, 100, BLOCK], true), whole);
  });
});

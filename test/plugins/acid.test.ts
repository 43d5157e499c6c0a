/**
 * acid1 and the SDK's `Ladder`: resonance peak at the cutoff, self-oscillation, stability under
 * abuse, the decay envelope's timing, accent, the mix crossfade, state and hot reload.
 *
 * Most plugin tests run acid1 against the `acid-source` fixture (module voice2: an oscillator × gate ×
 * amp into `tap:voice2:prefilter`, and through a 2-pole lowpass into `tap:voice2` and `main`): a
 * deterministic stand-in for the voices plugin; one test runs with the real voices plugin. Until the
 * kernel fans `/gate/voice2` out to acid1, notes gate both `/gate/voice2` and `/gate/acid1` at the
 * same frame (the last test, marked todo, checks the fan-out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Ladder } from '../../plugin-sdk/dsp/ladder.ts';
import { AcidEnvelope, AcidFilter, noteAccent, softLimit } from '../../plugins/acid/dsp.ts';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT, type OfflineEngineOptions } from '../helpers/offline-engine.ts';
import { welch } from '../helpers/fft.ts';
import { Biquad } from '../../plugin-sdk/dsp/biquad.ts';

const FS = 48000;
const BLOCK = 256;

/** What the plugin does for a span: the controls per sample, then the ladders once. */
function renderSpan(f: AcidFilter, inL: Float32Array, inR: Float32Array, start: number, end: number, mono: boolean): void {
  f.begin(inL, inR);
  for (let i = start; i < end; i++) f.controlAt(i);
  f.render(start, end, mono);
}
const PLUGINS = path.join(PROJECT_ROOT, 'plugins');

type T = { after(fn: () => Promise<void>): void };

async function start(t: T, withAcid = true, options: OfflineEngineOptions = {}): Promise<OfflineEngine> {
  const only = withAcid ? ['acid', 'acid-source'] : ['acid-source'];
  const e = await OfflineEngine.start({ pluginsFrom: [PLUGINS, FIXTURE_PLUGINS], only, ...options });
  t.after(() => e.close());
  return e;
}

async function set(e: OfflineEngine, module: string, values: Record<string, number>, at?: number): Promise<void> {
  for (const [name, v] of Object.entries(values)) await e.send(`/mod/${module}/${name}`, [v], at);
}

/** A note on voice2 (and so on acid1, which follows voice2's gates) at `frame` (gate value `v`), released `seconds` later. */
async function note(e: OfflineEngine, frame: number, seconds: number, v = 1): Promise<void> {
  await e.send('/gate/voice2', [v], frame);
  const off = frame + Math.round(seconds * e.sampleRate);
  await e.send('/gate/voice2', [0], off);
}

/** Steady-state amplitude of the ladder's response to a small sine at `f`. */
function sineGain(fc: number, res: number, f: number): number {
  const l = new Ladder(FS);
  l.setParams(fc, res);
  const n = Math.round(0.25 * FS);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const y = l.tick(1e-3 * Math.sin((2 * Math.PI * f * i) / FS));
    if (i > n / 2) p = Math.max(p, Math.abs(y));
  }
  return p / 1e-3;
}

/** The frequency of the largest peak of a (power) spectrum between lo and hi Hz, refined by parabolic interpolation. */
function spectralPeak(s: Float64Array, lo: number, hi: number): number {
  const n = (s.length - 1) * 2;
  const k0 = Math.ceil((lo * n) / FS);
  const k1 = Math.floor((hi * n) / FS);
  let best = k0;
  for (let k = k0; k <= k1; k++) if (s[k] > s[best]) best = k;
  const a = Math.log(s[best - 1]);
  const b = Math.log(s[best]);
  const c = Math.log(s[best + 1]);
  return ((best + (0.5 * (a - c)) / (a - 2 * b + c)) * FS) / n;
}

test('ladder: the resonance peak sits at the cutoff (sine sweep, res 0.9)', () => {
  for (const fc of [200, 1000, 3000, 8000]) {
    let best = 0;
    let bestF = 0;
    for (let f = fc * 0.6; f <= fc * 1.4; f *= 1.004) {
      const g = sineGain(fc, 0.9, f);
      if (g > best) {
        best = g;
        bestF = f;
      }
    }
    assert.ok(Math.abs(bestF / fc - 1) < 0.1, `fc ${fc}: peak at ${bestF.toFixed(1)} Hz`);
    // A real resonance: the peak stands well above the passband (DC gain 1/(1 + 3.6)).
    assert.ok(best > 10 * sineGain(fc, 0.9, fc / 20), `fc ${fc}: peak gain ${best}`);
  }
  // 24 dB/octave above the cutoff (res 0): two octaves up is ~ -48 dB, give or take the knee.
  const g4 = sineGain(1000, 0, 4000) / sineGain(1000, 0, 100);
  assert.ok(20 * Math.log10(g4) < -40, `${20 * Math.log10(g4)} dB at 2 octaves`);
});

test('ladder: stays finite and bounded under any modulation, and self-oscillates past resonance 1', () => {
  const l = new Ladder(FS);
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) | 0) >>> 0) / 4294967296;
  let maxAbs = 0;
  for (let i = 0; i < 10 * FS; i++) {
    l.setParams(5 + rnd() * 30000, rnd() * 1.3);
    const y = l.tick((rnd() * 2 - 1) * (i % 48000 < 24000 ? 100 : 0.01));
    assert.ok(Number.isFinite(y), `sample ${i}`);
    maxAbs = Math.max(maxAbs, Math.abs(y));
    if (i % 256 === 255) l.flush();
  }
  assert.ok(maxAbs < 10, `max ${maxAbs}`);

  // Resonance 1.1: an impulse keeps ringing at about the cutoff.
  const o = new Ladder(FS);
  o.setParams(1000, 1.1);
  const out = new Float32Array(2 * FS);
  out[0] = 0.01;
  o.processBlock(out, 0, out.length);
  let late = 0;
  for (let i = FS; i < 2 * FS; i++) late = Math.max(late, Math.abs(out[i]));
  assert.ok(late > 0.05 && late < 2, `oscillation level ${late}`);
  const f = spectralPeak(welch(out.subarray(FS), 8192), 100, 5000);
  assert.ok(Math.abs(f / 1000 - 1) < 0.1, `self-oscillation at ${f} Hz`);
});

test('acid envelope: 1 ms attack, then reaches 1 % of its peak exactly `decay` seconds after the peak', () => {
  for (const decay of [0.02, 0.25, 1]) {
    const env = new AcidEnvelope(FS);
    env.setDecay(decay);
    env.trigger(1);
    const values: number[] = [];
    for (let i = 0; i < Math.round((decay + 0.01) * FS); i++) values.push(env.next());
    const peakAt = values.indexOf(Math.max(...values));
    assert.equal(peakAt, Math.round(0.001 * FS));
    assert.equal(values[peakAt], 1);
    const n = decay * FS;
    const m = Math.round(n);
    const at = values[peakAt + m];
    assert.ok(Math.abs(at - Math.pow(0.01, m / n)) < 1e-9, `decay ${decay}: ${at} after ${m} samples`);
    assert.ok(Math.abs(at - 0.01) < 1e-4);
  }
  // An accented note: peak 1 + a, the short accent decay.
  const f = new AcidFilter(FS, BLOCK);
  f.decay = 0.5;
  f.accentDecay = 0.05;
  f.gate(1, 1);
  assert.equal(f.accent, 1);
  assert.equal(f.noteDecay(), 0.05);
  f.gate(1, 0);
  assert.equal(f.noteDecay(), 0.5);
  assert.deepEqual([noteAccent(1, 0), noteAccent(2, 0), noteAccent(1.5, 0), noteAccent(1, 0.3), noteAccent(5, 0)], [0, 1, 0.5, 0.3, 1]);
  assert.deepEqual([softLimit(0.5), softLimit(-0.9)], [0.5, -0.9]);
  assert.ok(softLimit(50) <= 1 && softLimit(-50) >= -1 && softLimit(NaN) === 0);
});

test('acid filter: the mono path (one ladder) equals the stereo path on a mono input, and hands over to stereo', () => {
  const a = new AcidFilter(FS, BLOCK);
  const b = new AcidFilter(FS, BLOCK);
  a.gate(1, 0.5);
  b.gate(1, 0.5);
  const input = new Float32Array(BLOCK);
  for (let block = 0; block < FS / 2 / BLOCK; block++) {
    for (let i = 0; i < BLOCK; i++) {
      const n = block * BLOCK + i;
      input[i] = 0.3 * Math.sin(n * 0.05) + (n % 200 < 100 ? 0.1 : -0.1);
    }
    renderSpan(a, input, input, 0, BLOCK, false);
    renderSpan(b, input, input, 0, BLOCK, block < 47); // then stereo: the right ladder took the left's state
    for (let i = 0; i < BLOCK; i++) {
      assert.equal(b.outL[i], a.outL[i], `block ${block} sample ${i}`);
      assert.equal(block < 47 ? b.outL[i] : b.outR[i], a.outR[i], `block ${block} sample ${i}`);
    }
  }
});

test('acid1: resonance peak at the cutoff, measured with noise through the plugin (res 0.9)', async (t) => {
  const e = await start(t);
  await set(e, 'voice2', { wave: 3, amp: 0.05 });
  for (const cutoff of [800, 2500]) {
    await set(e, 'acid1', { cutoff, res: 0.9, env_amount: 0, drive: 0, vol_comp: 0, mix: 1 });
    e.render(0.1);
    await note(e, e.frame, 10);
    e.render(0.1);
    const out = e.render(2).l;
    const f = spectralPeak(welch(out, 8192), 100, 10000);
    t.diagnostic(`cutoff ${cutoff} Hz: peak at ${f.toFixed(1)} Hz`);
    assert.ok(Math.abs(f / cutoff - 1) < 0.1, `cutoff ${cutoff}: peak at ${f}`);
  }
});

/** High-frequency level over time: RMS, in one-period windows (hop 1 ms), of x through a 4-pole high-pass at `hz`. */
function hfLevel(x: Float32Array, period: number, hz: number): number[] {
  const y = Float32Array.from(x);
  for (let pass = 0; pass < 2; pass++) {
    const hp = new Biquad(FS);
    hp.setHighpass(hz, Math.SQRT1_2);
    hp.processBlock(y, 0, y.length);
  }
  const out: number[] = [];
  for (let s = 0; s + period <= y.length; s += 48) {
    let a = 0;
    for (let i = s; i < s + period; i++) a += y[i] * y[i];
    out.push(Math.sqrt(a / period));
  }
  return out;
}

test('acid1: the sweep time follows `decay` (4× the decay → 4× the time to close to a given brightness)', async (t) => {
  const crossing: number[] = [];
  for (const decay of [0.25, 1]) {
    const e = await start(t);
    await set(e, 'voice2', { wave: 1, freq: 240, amp: 0.3 });
    await set(e, 'acid1', { cutoff: 150, res: 0, env_amount: 4000, decay, drive: 0, vol_comp: 0, mix: 1 });
    e.render(0.05);
    await note(e, e.frame, 2);
    const hf = hfLevel(e.render(1.5).l, 200, 1500);
    const top = Math.max(...hf);
    const k = hf.findIndex((v, i) => i > hf.indexOf(top) && v < 0.1 * top);
    assert.ok(k > 0, 'the high band fades');
    crossing.push((k * 48) / FS);
    t.diagnostic(`decay ${decay}: the band above 1.5 kHz falls 20 dB below its peak after ${((k * 48) / FS).toFixed(4)} s`);
  }
  const ratio = crossing[1] / crossing[0];
  assert.ok(Math.abs(ratio / 4 - 1) < 0.1, `ratio ${ratio}`);
});

test('acid1: an accented note peaks higher than an unaccented one (accent param, or gate value 2)', async (t) => {
  const e = await start(t);
  await set(e, 'voice2', { wave: 1, freq: 110, amp: 0.3 });
  const peaks: number[] = [];
  const second = e.sampleRate;
  const play = async (accent: number, gate: number) => {
    await set(e, 'acid1', { accent });
    e.render(0, 256);
    await note(e, e.frame, 0.2, gate);
    const out = e.render(0.8).l;
    let p = 0;
    for (let i = 0; i < 0.1 * second; i++) p = Math.max(p, Math.abs(out[i]));
    peaks.push(p);
  };
  await play(0, 1); // plain
  await play(1, 1); // accent parameter
  await play(0, 1); // the accent is latched per note: plain again
  await play(0, 2); // accented by the gate value
  await play(0.5, 1); // half accent
  t.diagnostic(`peaks: ${peaks.map((p) => p.toFixed(3)).join(', ')}`);
  const [plain, accented, plainAgain, byGate, half] = peaks;
  assert.ok(accented > 1.25 * plain, `accented ${accented} vs plain ${plain}`);
  assert.ok(Math.abs(plainAgain / plain - 1) < 0.02, `plain again ${plainAgain} vs ${plain}`);
  assert.ok(Math.abs(byGate / accented - 1) < 0.02, `gate value 2 ${byGate} vs accent 1 ${accented}`);
  assert.ok(half > plain && half < accented, `half accent ${half}`);

  // The accent's effect on the filter itself: cutoff + offset + a higher envelope peak, more resonance.
  const f = new AcidFilter(FS, BLOCK);
  const silence = new Float32Array(BLOCK);
  const track = (gate: number, accent: number) => {
    f.gate(gate, accent);
    let maxFc = 0;
    let maxRes = 0;
    for (let block = 0; block < (0.05 * FS) / BLOCK; block++) {
      renderSpan(f, silence, silence, 0, BLOCK, true);
      maxFc = Math.max(maxFc, ...f.cutoffs);
      maxRes = Math.max(maxRes, ...f.resonances);
    }
    return { maxFc, maxRes };
  };
  const a0 = track(1, 0);
  const a1 = track(1, 1);
  assert.equal(a0.maxFc, 1500 + 2500);
  assert.equal(a1.maxFc, 1500 + 300 + 2 * 2500);
  assert.ok(Math.abs(a0.maxRes - 0.45) < 1e-12 && Math.abs(a1.maxRes - 0.65) < 1e-12, `${a0.maxRes} ${a1.maxRes}`);
});

test('acid1: mix crossfades voice2 linearly between its own filter (0) and the acid filter (1)', async (t) => {
  const render = async (withAcid: boolean, mix: number) => {
    const e = await start(t, withAcid);
    await set(e, 'voice2', { wave: 1, freq: 98, amp: 0.3 });
    if (withAcid) await set(e, 'acid1', { mix });
    e.render(0.1); // past the 20 ms smoothing of mix
    await note(e, e.frame, 0.3);
    return e.render(0.5).l;
  };
  const dry = await render(false, 0);
  const off = await render(true, 0);
  const wet = await render(true, 1);
  const half = await render(true, 0.5);
  let maxOff = 0;
  let maxHalf = 0;
  let diffWet = 0;
  for (let i = 0; i < dry.length; i++) {
    maxOff = Math.max(maxOff, Math.abs(off[i] - dry[i]));
    maxHalf = Math.max(maxHalf, Math.abs(half[i] - 0.5 * (dry[i] + wet[i])));
    diffWet = Math.max(diffWet, Math.abs(wet[i] - dry[i]));
  }
  assert.equal(maxOff, 0, 'mix 0 leaves main untouched');
  assert.ok(maxHalf < 1e-6, `mix 0.5 is the average: ${maxHalf}`);
  assert.ok(diffWet > 0.05, 'mix 1 replaces voice2 with the acid sound');
});

test('acid1 with the real voices plugin: mix 0 leaves voice2 as it is, mix 1 replaces it with the acid sound', async (t) => {
  const run = async (only: string[], mix: number) => {
    const e = await OfflineEngine.start({ pluginsFrom: PLUGINS, only });
    t.after(() => e.close());
    await e.send('/mod/voice2/osc/type', [1]);
    await e.send('/mod/voice2/freq', [110]);
    if (only.includes('acid')) await e.send('/mod/acid1/mix', [mix]);
    e.render(0.1);
    await e.send('/gate/voice2', [1], e.frame);
    if (only.includes('acid')) await e.send('/gate/acid1', [1], e.frame);
    return e.render(0.5).l;
  };
  const alone = await run(['voices'], 0);
  const off = await run(['voices', 'acid'], 0);
  const on = await run(['voices', 'acid'], 1);
  let dOff = 0;
  let dOn = 0;
  let level = 0;
  for (let i = 0; i < alone.length; i++) {
    dOff = Math.max(dOff, Math.abs(off[i] - alone[i]));
    dOn = Math.max(dOn, Math.abs(on[i] - alone[i]));
    level = Math.max(level, Math.abs(on[i]));
  }
  t.diagnostic(`mix 0: max difference ${dOff}; mix 1: ${dOn.toFixed(3)}, peak ${level.toFixed(3)}`);
  assert.ok(dOff < 1e-6, `mix 0 differs by ${dOff}`);
  assert.ok(dOn > 0.05 && level > 0.05, 'mix 1 plays the acid filter');
});

test('acid1: stable and finite at res 0.98, full drive, accents and wild cutoff sweeps', async (t) => {
  for (const wave of [1, 3]) {
    const e = await start(t);
    await set(e, 'voice2', { wave, freq: 55, amp: 1 });
    await set(e, 'acid1', { res: 0.98, drive: 1, vol_comp: 1, env_amount: 5000, decay: 0.02, res_accent_boost: 0.4, cutoff_offset: 1000, mix: 1 });
    e.render(0, 256);
    const start0 = e.frame;
    const blocks = Math.round((4 * e.sampleRate) / 256);
    for (let k = 0; k < blocks; k++) {
      const at = start0 + k * 256;
      if (k % 2 === 0) await set(e, 'acid1', { cutoff: k % 4 === 0 ? 80 : 5000 }, at + 17);
      if (k % 7 === 0) await set(e, 'acid1', { res: k % 14 === 0 ? 0 : 0.98 }, at + 101);
      if (k % 9 === 0) await note(e, at + 3, 0.02, k % 18 === 0 ? 2 : 1);
    }
    const out = e.render(0, blocks * 256);
    let maxAbs = 0;
    for (let i = 0; i < out.l.length; i++) {
      assert.ok(Number.isFinite(out.l[i]) && Number.isFinite(out.r[i]), `wave ${wave}, sample ${i}`);
      maxAbs = Math.max(maxAbs, Math.abs(out.l[i]));
    }
    const acid = (await e.host.call('plugins')).find((p) => p.pluginId === 'acid')!;
    assert.equal(acid.faults, 0, acid.lastError);
    assert.ok(maxAbs <= 1.0001 && maxAbs > 0.1, `wave ${wave}: max ${maxAbs}`);
    t.diagnostic(`wave ${wave}: peak ${maxAbs.toFixed(3)}, no faults`);
  }
});

test('acid1: a hot reload mid-note continues the sound exactly (envelope, accent and ladder state handed over)', async (t) => {
  const render = async (reload: boolean) => {
    const e = await start(t);
    await set(e, 'voice2', { wave: 1, freq: 110, amp: 0.3 });
    await set(e, 'acid1', { accent: 1, res: 0.8, decay: 0.5 });
    e.render(0, 256);
    await note(e, e.frame, 1);
    const a = e.render(0, 40 * 256).l;
    if (reload) await e.engine.plugins.load(path.join(e.root, 'plugins', 'acid'));
    const b = e.render(0, 200 * 256).l;
    const state = (await e.host.call('getState', 'acid')) as { v: number; filter: { accent: number } };
    return { out: Float32Array.from([...a, ...b]), state };
  };
  const plain = await render(false);
  const reloaded = await render(true);
  assert.equal(reloaded.state.v, 1);
  assert.equal(reloaded.state.filter.accent, 1);
  // The kernel crossfades old and new version over 10 ms after the swap (both play the same sound);
  // outside that window the reloaded engine must be sample-identical to the uninterrupted one.
  const swap = 40 * 256;
  const fade = Math.round(0.01 * FS);
  let diff = 0;
  let fadeDiff = 0;
  for (let i = 0; i < plain.out.length; i++) {
    const d = Math.abs(plain.out[i] - reloaded.out[i]);
    if (i >= swap && i < swap + fade) fadeDiff = Math.max(fadeDiff, d);
    else diff = Math.max(diff, d);
  }
  t.diagnostic(`max difference ${diff} (during the kernel's crossfade: ${fadeDiff.toFixed(4)})`);
  assert.ok(diff < 1e-6, `max difference ${diff}`);
});

test('acid1 hears /gate/voice2 alone, and the old /gate/acid1 gates voice2 and acid1 together', async (t) => {
  const e = await start(t);
  await set(e, 'voice2', { wave: 1, freq: 110, amp: 0.3 });
  await set(e, 'acid1', { cutoff: 100, env_amount: 5000, res: 0 });
  e.render(0.1);
  await e.send('/gate/voice2', [1], e.frame);
  const hf = hfLevel(e.render(0.1).l, 436, 1500);
  // The envelope opened the filter: a bright start (1.7e-2 when acid1 is gated; 2e-6 when it is
  // not), darker 80 ms later.
  assert.ok(hf[5] > 1e-3 && hf[5] > 3 * hf[80], `high band ${hf[5]} → ${hf[80]}`);
  // The old engine's /gate/acid1 is an alias of /gate/voice2: the voice sounds and the filter opens.
  await e.send('/gate/voice2', [0], e.frame);
  e.render(1);
  await e.send('/gate/acid1', [1], e.frame);
  const again = hfLevel(e.render(0.1).l, 436, 1500);
  assert.ok(again[5] > 1e-3 && again[5] > 3 * again[80], `high band after /gate/acid1 ${again[5]} → ${again[80]}`);
});

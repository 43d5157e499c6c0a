/**
 * The SIMD voice bank (plugins/voices/bank.ts) against VoiceDsp, and the voices plugin with the bank
 * on against the same plugin with every voice on VoiceDsp (`plugins.voices.bank: false`): voices
 * crossing between the two renderers mid-note (waveform switches, smoothed pitch changes, slides),
 * unsynchronised envelopes, moving cutoff and amp, state hand-over. Offline at 48 kHz.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { VoiceBank } from '../../plugins/voices/bank.ts';
import { CTL_AMP, CTL_CUTOFF, CTL_FREQ, CTL_Q, VoiceDsp } from '../../plugins/voices/dsp.ts';
import { addTo, addToSend } from '../../plugins/voices/mix.ts';
import { OfflineEngine, PROJECT_ROOT } from '../helpers/offline-engine.ts';
import { differenceDb, energy } from '../helpers/signal.ts';

const FS = 48000;
const BLOCK = 256;
const PLUGINS = path.join(PROJECT_ROOT, 'plugins');

/** `v.render` with the block's constant inputs (`controls`) given as arguments. */
function render(v: VoiceDsp, out: Float32Array, start: number, end: number, freq: number, amp: number, cutoff: number, q: number, moving: number): void {
  v.controls[CTL_FREQ] = freq;
  v.controls[CTL_AMP] = amp;
  v.controls[CTL_CUTOFF] = cutoff;
  v.controls[CTL_Q] = q;
  v.render(out, start, end, moving);
}

/** The numbers a bank setter reads (`src`, from index 0). */
function nums(...values: number[]): Float64Array {
  return Float64Array.from(values);
}

/** A saw voice with its own envelope, gated on. */
function sawVoice(i: number): VoiceDsp {
  const v = new VoiceDsp(FS, BLOCK, i + 1);
  v.setWaveform(1);
  v.setEnvelope(0.003 + 0.001 * i, 0.04, 0.5, 0.05 + 0.01 * i);
  v.jumpTo(97 * 2 ** (i * 0.71));
  v.gate(1);
  return v;
}

describe('VoiceBank', () => {
  test('renders what VoiceDsp renders (saw, filter, envelope), handing voices over at idle and gate', (t) => {
    const N = 7;
    const bank = new VoiceBank(FS, BLOCK, N);
    const ref = Array.from({ length: N }, (_, i) => sawVoice(i));
    const own = Array.from({ length: N }, (_, i) => sawVoice(i));
    const inBank = new Array<boolean>(N).fill(false);
    const out = new Float32Array(BLOCK);
    const sum = new Float32Array(BLOCK);
    let worst = 0;
    let level = 0;
    for (let b = 0; b < 600; b++) {
      const cutoff = 900 + 700 * Math.sin(b * 0.07);
      // Gates at different blocks per voice: release ends (idle) and new notes cross renderers.
      for (let v = 0; v < N; v++) {
        const phase = (b + 13 * v) % 90;
        if (phase === 40) {
          ref[v].gate(0);
          own[v].gate(0);
        } else if (phase === 0) {
          ref[v].gate(1);
          own[v].gate(1);
        }
      }
      sum.fill(0);
      for (let v = 0; v < N; v++) {
        render(ref[v], out, 0, BLOCK, ref[v].freq, 0.2, cutoff, 1 + v / 2, 0);
        for (let i = 0; i < BLOCK; i++) sum[i] += out[i];
      }
      for (let v = 0; v < N; v++) {
        const d = own[v];
        if (!d.isIdle() && !inBank[v]) {
          bank.acquire(v, d);
          inBank[v] = true;
        }
        bank.setFilter(v, nums(cutoff, 1 + v / 2), 0);
      }
      for (let g = 0; g < bank.groupCount; g++) {
        let pos = 0;
        while (pos < BLOCK) {
          let n = BLOCK - pos;
          for (let v = 4 * g; v < Math.min(N, 4 * g + 4); v++) {
            const r = own[v].env.remain;
            if (inBank[v] && r > 0 && r < n) n = r;
          }
          for (let v = 4 * g; v < Math.min(N, 4 * g + 4); v++) {
            if (inBank[v]) bank.setGain(v, nums(own[v].env.level * 0.2, (own[v].env.remain > 0 ? own[v].env.inc : 0) * 0.2), 0);
          }
          bank.render(g, pos, pos + n, false);
          pos += n;
          for (let v = 4 * g; v < Math.min(N, 4 * g + 4); v++) if (inBank[v]) own[v].env.skip(n);
        }
      }
      // As the plugin does: a voice whose release ended runs silently to the block end (VoiceDsp
      // renders whole blocks), then goes back to its VoiceDsp until its next note.
      for (let v = 0; v < N; v++) {
        if (inBank[v] && own[v].isIdle()) {
          bank.release(v, own[v]);
          inBank[v] = false;
        }
      }
      bank.mix(0, BLOCK, false);
      for (let i = 0; i < BLOCK; i++) {
        worst = Math.max(worst, Math.abs(bank.outMain[i] - sum[i]));
        level = Math.max(level, Math.abs(sum[i]));
      }
    }
    t.diagnostic(`max difference ${worst.toExponential(2)} at a peak of ${level.toFixed(3)}`);
    assert.ok(level > 0.2);
    assert.ok(worst < 1e-6, `bank vs VoiceDsp: ${worst}`);
  });

  test('lanes given the same cutoff and Q one after another (coefficients computed once) filter as lanes set alone', () => {
    const N = 6;
    const shared = new VoiceBank(FS, BLOCK, N);
    const alone = Array.from({ length: N }, () => new VoiceBank(FS, BLOCK, 1));
    for (let v = 0; v < N; v++) {
      shared.acquire(v, sawVoice(v));
      alone[v].acquire(0, sawVoice(v));
      shared.setGain(v, nums(0.1, 0), 0);
      alone[v].setGain(0, nums(0.1, 0), 0);
    }
    let worst = 0;
    let level = 0;
    for (let b = 0; b < 40; b++) {
      const filter = nums(800 + 600 * Math.sin(b * 0.3), 1 + (b % 3));
      for (let v = 0; v < N; v++) shared.setFilter(v, filter, 0);
      for (let g = 0; g < shared.groupCount; g++) shared.render(g, 0, BLOCK, false);
      shared.mix(0, BLOCK, false);
      const sum = new Float32Array(BLOCK);
      for (const bank of alone) {
        bank.setFilter(0, filter, 0);
        bank.render(0, 0, BLOCK, false);
        bank.mix(0, BLOCK, false);
        for (let i = 0; i < BLOCK; i++) sum[i] += bank.outMain[i];
      }
      for (let i = 0; i < BLOCK; i++) {
        worst = Math.max(worst, Math.abs(shared.outMain[i] - sum[i]));
        level = Math.max(level, Math.abs(sum[i]));
      }
    }
    assert.ok(level > 0.1);
    assert.ok(worst < 1e-6, `${worst}`);
  });

  test('per-voice sends: each lane × its (ramping) send level, into as many send buses as declared', () => {
    for (const sends of [1, 2, 3, 5]) {
      const a = new VoiceBank(FS, BLOCK, 2, sends);
      const b = new VoiceBank(FS, BLOCK, 1);
      const v0a = sawVoice(0);
      const v0b = sawVoice(0);
      const v1 = sawVoice(3);
      a.acquire(0, v0a);
      a.acquire(1, v1);
      b.acquire(0, v0b);
      for (const [bank, v] of [[a, 0], [a, 1], [b, 0]] as const) {
        bank.setFilter(v, nums(2000, 1), 0);
        bank.setGain(v, nums(0.5, 0), 0);
      }
      // Send k: level 0.1 + 0.2k, step ±0.001 (k even / odd); lane 1 sends nothing.
      const level = (k: number, i: number) => 0.1 + 0.2 * k + (k % 2 === 0 ? 0.001 : -0.001) * i;
      a.setSends(0, Float64Array.from({ length: 2 * sends }, (_, j) => (j % 2 === 0 ? level(j / 2, 0) : level((j - 1) / 2, 1) - level((j - 1) / 2, 0))), 0);
      a.setSends(1, new Float64Array(2 * sends), 0);
      a.render(0, 0, BLOCK, true);
      a.mix(0, BLOCK, true);
      b.render(0, 0, BLOCK, false);
      b.mix(0, BLOCK, false);
      assert.equal(a.outSends.length, sends);
      let worst = 0;
      for (let k = 0; k < sends; k++) {
        for (let i = 0; i < BLOCK; i++) worst = Math.max(worst, Math.abs(a.outSends[k][i] - level(k, i) * b.outMain[i]));
      }
      assert.ok(worst < 1e-6, `${sends} sends: ${worst}`);
    }
  });
});

/** An offline engine with only the voices (bank on or off) and the LFOs, the LFOs aimed at nothing. */
async function voicesEngine(bank: boolean, numVoices: number): Promise<OfflineEngine> {
  const e = await OfflineEngine.start({
    pluginsFrom: PLUGINS,
    only: ['voices', 'lfo'],
    configure: (c) => {
      c.plugins.voices = { bank };
      c.engine.numVoices = numVoices;
    },
  });
  await e.send('/mod/lfo1/target', ['none']);
  await e.send('/mod/lfo2/target', ['none']);
  return e;
}

/** Sets voice `v`'s sound at frame 0; each value in `p` goes to `/mod/voice<v>/<key>`. */
async function setVoice(e: OfflineEngine, v: number, p: Record<string, number>): Promise<void> {
  for (const [key, value] of Object.entries(p)) await e.send(`/mod/voice${v}/${key}`, [value], 0);
}

/** Renders `seconds` of the voices plugin (8 voices, plus lfo) with a fixed score. */
async function renderScore(bank: boolean, moving: boolean, seconds: number, jumps = false): Promise<Float32Array> {
  const e = await voicesEngine(bank, 8);
  try {
    const at = (s: number) => Math.round(s * FS);
    for (let v = 1; v <= 7; v++) {
      await setVoice(e, v, {
        'osc/type': v === 7 ? 0 : 1,
        freq: 80 * 2 ** (v * 0.6),
        amp: 0.15,
        'filter/freq': 700 + 250 * v,
        'filter/q': 1 + v / 3,
        'adsr/attack': 0.003 + 0.001 * v,
        'adsr/decay': 0.05,
        'adsr/sustain': 0.5,
        'adsr/release': 0.06 + 0.01 * v,
      });
    }
    for (let k = 0; k < seconds / 0.3; k++) {
      for (let v = 1; v <= 7; v++) {
        await e.send(`/gate/voice${v}`, [1], at(0.3 * k + 0.013 * v));
        await e.send(`/gate/voice${v}`, [0], at(0.3 * k + 0.013 * v + 0.12));
      }
    }
    // voice3: saw → square → saw mid-note; voice4: a smoothed pitch change; voice5: a slide.
    await e.send('/mod/voice3/osc/type', [2], at(0.55));
    await e.send('/mod/voice3/osc/type', [1], at(0.95));
    await e.send('/mod/voice4/freq', [333], at(0.66));
    await e.send('/mod/voice5/slide_time', [0.05], at(1.1));
    await e.send('/mod/voice5/freq', [150], at(1.22));
    await e.send('/mod/voice5/slide_time', [0], at(1.5));
    if (jumps) {
      for (let k = 0; k < seconds / 0.3; k++) await e.send('/mod/voice1/filter/freq', [k % 2 === 0 ? 5000 : 400], at(0.3 * k + 0.05));
    }
    if (moving) {
      await e.send('/mod/lfo1/target', ['/mod/voice*/filter/freq']);
      await e.send('/mod/lfo1/rate', [3]);
      await e.send('/mod/lfo1/depth', [1]);
      await e.send('/mod/lfo1/range', [500]);
      for (let k = 0; k < seconds / 0.3; k++) await e.send('/mod/voice2/amp', [k % 2 === 0 ? 0.3 : 0.1], at(0.3 * k + 0.2));
    }
    return e.render(seconds).l;
  } finally {
    await e.close();
  }
}

/**
 * Four saw voices whose notes follow each other with no gap: each release (0.05 s, 2,400 frames)
 * ends on the frame of the next gate, inside a block; between the phrases a gap of 0.2 s leaves
 * every voice idle for whole spans.
 */
async function renderBackToBack(bank: boolean): Promise<Float32Array> {
  const e = await voicesEngine(bank, 4);
  try {
    const at = (s: number) => Math.round(s * FS);
    for (let v = 1; v <= 4; v++) {
      await setVoice(e, v, {
        'osc/type': 1,
        freq: 90 * 2 ** (v * 0.7),
        amp: 0.2,
        'filter/freq': 900 + 400 * v,
        'filter/q': 1.5,
        'adsr/attack': 0.004,
        'adsr/decay': 0.08,
        'adsr/sustain': 0.6,
        'adsr/release': 0.05,
      });
    }
    let t0 = 0.05;
    for (let phrase = 0; phrase < 3; phrase++) {
      for (let k = 0; k < 4; k++, t0 += 0.15) {
        for (let v = 1; v <= 4; v++) {
          await e.send(`/gate/voice${v}`, [1], at(t0));
          await e.send(`/gate/voice${v}`, [0], at(t0 + 0.1));
        }
      }
      t0 += 0.2;
    }
    return e.render(t0).l;
  } finally {
    await e.close();
  }
}

describe('VoiceBank.addInto', () => {
  test('adds the mixed voices into a bus, plain or × a send level, bit for bit as the JS loops of mix.ts', () => {
    const N = 5;
    const bank = new VoiceBank(FS, BLOCK, N);
    const voices = Array.from({ length: N }, (_, i) => sawVoice(i));
    for (let v = 0; v < N; v++) {
      bank.acquire(v, voices[v]);
      bank.setFilter(v, nums(1500 + 300 * v, 1.2), 0);
      bank.setGain(v, nums(0.3, 0), 0);
    }
    for (let g = 0; g < bank.groupCount; g++) bank.render(g, 0, BLOCK, false);
    bank.mix(0, BLOCK, false);
    assert.ok(energy(bank.outMain) > 0, 'the voices make sound');
    const bus = (seed: number) => ({ l: Float32Array.from({ length: BLOCK }, (_, i) => Math.sin(seed + i * 0.37) * 0.7), r: Float32Array.from({ length: BLOCK }, (_, i) => Math.cos(seed + i * 0.11) * 0.9) });
    // Levels whose products with a float32 are not float32 (a float32 product would round differently).
    const levels = nums(1, 0.3, 0.7071067811865476, 1e-3, 0);
    for (let k = -1; k < levels.length; k++) {
      const mine = bus(k);
      const js = bus(k);
      assert.ok(bank.addsInto(mine, 0, BLOCK));
      if (k < 0) {
        bank.addInto(mine, null, 0);
        addTo(js, bank.outMain, 0, BLOCK);
      } else {
        bank.addInto(mine, levels, k);
        addToSend(js, bank.outMain, 0, BLOCK, levels, k);
        if (levels[k] === 0) assert.deepEqual(mine, bus(k), 'level 0 changes nothing');
      }
      assert.deepEqual(mine, js, k < 0 ? 'plain' : `× ${levels[k]}`);
    }
    assert.ok(!bank.addsInto(bus(0), 0, BLOCK - 1), 'a part of a block is left to the JS loops');
  });
});

describe('voices plugin: bank on vs every voice on VoiceDsp', () => {
  test('at rest: the same output (voices crossing renderers on waveform, pitch and slide changes)', async (t) => {
    const on = await renderScore(true, false, 2);
    const off = await renderScore(false, false, 2);
    let worst = 0;
    let level = 0;
    for (let i = 0; i < on.length; i++) {
      worst = Math.max(worst, Math.abs(on[i] - off[i]));
      level = Math.max(level, Math.abs(off[i]));
    }
    t.diagnostic(`max difference ${worst.toExponential(2)} at a peak of ${level.toFixed(3)}`);
    assert.ok(level > 0.1);
    assert.ok(worst < 2e-6, `${worst}`);
  });

  test('notes that start on the frame where the last release ended (the voice keeps its lane): the same output', async (t) => {
    const on = await renderBackToBack(true);
    const off = await renderBackToBack(false);
    let worst = 0;
    let level = 0;
    for (let i = 0; i < on.length; i++) {
      worst = Math.max(worst, Math.abs(on[i] - off[i]));
      level = Math.max(level, Math.abs(off[i]));
    }
    t.diagnostic(`max difference ${worst.toExponential(2)} at a peak of ${level.toFixed(3)}`);
    assert.ok(level > 0.1);
    assert.ok(worst < 2e-6, `${worst}`);
  });

  test('cutoff jumps glide per 32-frame chunk on the kernel curve in the bank: within −50 dB of per-sample', async (t) => {
    const on = await renderScore(true, false, 2, true);
    const off = await renderScore(false, false, 2, true);
    const db = differenceDb(on, off);
    t.diagnostic(`difference ${db.toFixed(1)} dB below the signal`);
    assert.ok(db < -50, `${db} dB`);
  });

  test('moving cutoff (LFO on every voice, per span in the bank) and amp (per chunk): close to per-sample', async (t) => {
    const on = await renderScore(true, true, 2);
    const off = await renderScore(false, true, 2);
    const db = differenceDb(on, off);
    t.diagnostic(`difference ${db.toFixed(1)} dB below the signal`);
    assert.ok(energy(off) > 0);
    // The bank steps a small-step cutoff modulation per block (as the control-rate LFO itself steps),
    // the VoiceDsp path per sample along the kernel's 20 ms smoothing: a slight timbre lag, no more.
    assert.ok(db < -35, `${db} dB`);
  });
});

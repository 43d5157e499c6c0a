/**
 * The bank scheduler: which voices the SIMD `VoiceBank` (bank.ts) renders in a span, and how — the
 * hand-over between a voice's `VoiceDsp` and its bank lane, each bank voice's filter, gain and sends
 * per span or per chunk, the rendering of the bank's groups of four lanes and their mix into the buses.
 *
 * Two renderers, one sound. A voice is rendered by the bank while it is a saw (`osc/type` 1) whose
 * pitch is at rest (no slide set, `freq` not gliding) and that has no tap bus; otherwise by its own
 * `VoiceDsp` (voice-render.ts). The switch happens at a span start and hands over the oscillator
 * phase, the BLEP line and the filter state exactly, so a voice may cross over mid-note without a
 * seam (test/plugins/voice-bank.test.ts). Lane = module index: voice v is in group v >> 2.
 *
 * In the bank the envelope (the same `Adsr` object) is applied as linear gain ramps, split at every
 * segment end; while cutoff, amp or a send moves (kernel smoothing, LFOs), the span is split into
 * RAMP_CHUNK (32-frame) chunks: cutoff coefficients per chunk, gains and sends ramped linearly to
 * each chunk's end value (`skipParam`, the kernel's curve). Voice sums are built in mono and added
 * to both channels once; when every bank voice has the same, resting send levels the sends are
 * scaled copies of that sum.
 *
 * Per span `process` calls: `beginSpan`, then per sounding voice in module order `take` (or `drop`
 * for an idle one), then `endSpan`, which renders the voices taken.
 *
 * Numbers reach the bank's setters through `lane` (a Float64Array), not as arguments: V8 boxes a
 * number passed to a call it did not inline (a heap allocation on the audio thread).
 *
 * Thread: the constructor allocates (create); every other method is allocation-free.
 */
import { RAMP_CHUNK, skipParam, WAVE_SAW, type Bus, type Send } from 'plugin-sdk';
import type { VoiceBank } from './bank.ts';
import { bigGlide, spanCutoff } from './bank-cutoff.ts';
import { addTo, addToSend, addToSends } from './mix.ts';
import { bit, NP, P } from './params.ts';
import type { VoiceSet } from './voice-set.ts';

const { freq: FREQ, amp: AMP, 'osc/type': TYPE, 'filter/freq': CUTOFF, 'filter/q': Q } = P;
const M_FREQ = bit('freq');
const M_AMP = bit('amp');
const M_CUTOFF = bit('filter/freq');
// The SDK's values, copied once: a plugin's read of an SDK export is a call into the engine's realm.
const SAW = WAVE_SAW;
const CHUNK = RAMP_CHUNK;

/** Whether `type` selects the saw (as Oscillator.setWaveform rounds it). */
function isSaw(type: number): boolean {
  return Math.round(type) === SAW;
}

export class BankScheduler {
  private readonly bank: VoiceBank;
  private readonly voices: VoiceSet;
  private readonly main: Bus;
  private readonly sends: readonly Send[];
  private readonly meters: Float32Array;
  /** Per voice: rendered by the bank rather than by its VoiceDsp; the `freq` its lane was tuned to. */
  private readonly inBank: Uint8Array;
  private readonly bankFreq: Float64Array;
  /** Bank voices of the current span (module indices, ascending): `members[0..n)`. */
  private readonly members: Int32Array;
  private n = 0;
  /**
   * Per bank voice of the current span, filled by `prepare`, so the render loops touch typed arrays,
   * not objects: samples left in the envelope segment (0: holding), and whether cutoff, amp or a send
   * moves.
   */
  private readonly segLeft: Float64Array;
  private readonly moves: Uint8Array;
  /** One lane's numbers for a bank setter. */
  private readonly lane: Float64Array;
  /** One lane's send levels and steps for `setSends`: send bus k's at 2k, 2k + 1. */
  private readonly sendLane: Float64Array;
  /** Frames of the span being prepared. */
  private spanLength = 0;
  /**
   * The span's send levels when every bank voice has the same, resting ones (else perVoice): those
   * of the first bank voice, at `sendVal[sendsAt + k]` for send bus k.
   */
  private sendsAt = 0;
  private perVoice = false;

  constructor(bank: VoiceBank, voices: VoiceSet, main: Bus, sends: readonly Send[], meters: Float32Array) {
    const count = voices.count;
    this.bank = bank;
    this.voices = voices;
    this.main = main;
    this.sends = sends;
    this.meters = meters;
    this.inBank = new Uint8Array(count);
    this.bankFreq = new Float64Array(count);
    this.members = new Int32Array(count);
    this.segLeft = new Float64Array(count);
    this.moves = new Uint8Array(count);
    this.lane = new Float64Array(4);
    this.sendLane = new Float64Array(2 * sends.length);
  }

  /** A span of `frames` starts: no voice taken yet. */
  beginSpan(frames: number): void {
    this.spanLength = frames;
    this.n = 0;
  }

  /** Idle voice v leaves the bank (if it was there: its envelope came to rest in an earlier span). */
  drop(v: number): void {
    if (this.inBank[v] !== 0) this.release(v);
  }

  /**
   * Sounding voice v (block controls synced): moves it into or out of the bank as it is eligible or
   * not, sets its waveform when its VoiceDsp renders it; true if the bank renders it in this span
   * (then prepared and listed for `endSpan`).
   */
  take(v: number): boolean {
    const voices = this.voices;
    const type = voices.params.val[v * NP + TYPE];
    const eligible = isSaw(type) && voices.sliding[v] === 0 && (voices.params.moving[v] & M_FREQ) === 0 && voices.tapless[v] !== 0;
    if (this.inBank[v] !== 0 && !eligible) this.release(v);
    if (this.inBank[v] === 0) {
      voices.slots[v].dsp.setWaveform(type);
      if (eligible) this.acquire(v);
    }
    if (this.inBank[v] === 0) return false;
    this.prepare(v, this.n === 0);
    this.members[this.n++] = v;
    return true;
  }

  /** Renders the voices taken in this span over [start, end) and adds them into the buses. */
  endSpan(start: number, end: number): void {
    const n = this.n;
    if (n === 0) return;
    const members = this.members;
    let m0 = 0;
    while (m0 < n) {
      const g = members[m0] >> 2;
      let m1 = m0 + 1;
      while (m1 < n && members[m1] >> 2 === g) m1++;
      this.renderGroup(m0, m1, start, end);
      m0 = m1;
    }
    this.addOut(start, end);
  }

  /** Between blocks: every bank voice back to its VoiceDsp (at the next block's first frame). */
  releaseAll(): void {
    for (let v = 0; v < this.voices.count; v++) if (this.inBank[v] !== 0) this.release(v);
  }

  /**
   * Voice v moves into the bank at a span start (its waveform is already the saw). Its group's lanes
   * are rendered over every span while any is in the bank, so the group's last render ended here (or
   * its other lanes are unused).
   */
  private acquire(v: number): void {
    const dsp = this.voices.slots[v].dsp;
    const f = this.voices.params.val[v * NP + FREQ];
    dsp.jumpTo(f);
    this.bank.acquire(v, dsp);
    this.bankFreq[v] = f;
    this.inBank[v] = 1;
  }

  /** Voice v goes back to its VoiceDsp where its group's last render ended (a span start or end). */
  private release(v: number): void {
    this.bank.release(v, this.voices.slots[v].dsp);
    this.inBank[v] = 0;
  }

  /**
   * Bank voice v in this span, before rendering (`first`: the span's first bank voice): tunes its
   * lane, sets its filter and gain for the span's first frames (exact unless its envelope segment
   * ends inside the span or a parameter moves; `update` then follows them).
   */
  private prepare(v: number, first: boolean): void {
    const b = this.bank;
    const lane = this.lane;
    const voices = this.voices;
    const val = voices.params.val;
    const i = v * NP;
    const f = val[i + FREQ];
    if (f !== this.bankFreq[v]) {
      this.bankFreq[v] = f;
      const dsp = voices.slots[v].dsp;
      dsp.jumpTo(f);
      lane[0] = dsp.freq;
      b.setFrequency(v, lane, 0);
    }
    const m = voices.params.moving[v];
    const ns = this.sends.length;
    if (first) {
      this.sendsAt = v * ns;
      this.perVoice = false;
    }
    const sendsMove = voices.params.sendsMoving[v] !== 0;
    const glide = (m & M_CUTOFF) !== 0 && bigGlide(voices.params.params[i + CUTOFF]);
    const mv = (m & M_AMP) !== 0 || sendsMove || glide;
    if (sendsMove || !this.sameSends(v * ns)) this.perVoice = true;
    this.moves[v] = mv ? 1 : 0;
    const envNow = voices.envNow;
    this.segLeft[v] = envNow[3 * v + 2];
    if (!glide) {
      if ((m & M_CUTOFF) !== 0) spanCutoff(voices.params.params[i + CUTOFF], this.spanLength, val, i + CUTOFF);
      lane[0] = val[i + CUTOFF];
      lane[1] = val[i + Q];
      b.setFilter(v, lane, 0);
    }
    if (!mv) {
      const a = val[i + AMP];
      lane[0] = envNow[3 * v] * a;
      lane[1] = envNow[3 * v + 1] * a;
      b.setGain(v, lane, 0);
    }
  }

  /**
   * The group of bank voices `members[m0..m1)` over [start, end), in chunks: up to the group's first
   * envelope segment end, and at most RAMP_CHUNK while one of them moves. A voice whose envelope
   * came to rest stays in its lane until the next span's `drop` (nothing renders the lane before it),
   * so a note that starts where the last one's release ends keeps its lane: no hand-over to its
   * VoiceDsp and back, which would restore the same state.
   */
  private renderGroup(m0: number, m1: number, start: number, end: number): void {
    const b = this.bank;
    const members = this.members;
    const moves = this.moves;
    const segLeft = this.segLeft;
    const envs = this.voices.envs;
    const meters = this.meters;
    const perVoice = this.perVoice;
    const g = members[m0] >> 2;
    let moving = false;
    for (let m = m0; m < m1; m++) if (moves[members[m]] !== 0) moving = true;
    let pos = start;
    let fresh = true;
    while (pos < end) {
      let len = end - pos;
      for (let m = m0; m < m1; m++) {
        const rem = segLeft[members[m]];
        if (rem > 0 && rem < len) len = rem;
      }
      if (moving && len > CHUNK) len = CHUNK;
      // A fresh span's first chunk was set up by `prepare`, unless something moves.
      if (!fresh || moving || perVoice) {
        for (let m = m0; m < m1; m++) {
          const v = members[m];
          if (!fresh || moves[v] !== 0 || perVoice) this.update(v, len);
        }
      }
      b.render(g, pos, pos + len, perVoice);
      pos += len;
      fresh = false;
      for (let m = m0; m < m1; m++) {
        const v = members[m];
        const pk = b.peak(v);
        if (pk > meters[v]) meters[v] = pk;
        const env = envs[v];
        // Fields rather than methods where the Adsr allows (its calls cross into the SDK's realm).
        if (env.remain > 0) env.skip(len);
        segLeft[v] = env.remain;
      }
    }
  }

  /**
   * Lane v for the chunk [.., + len) when its envelope segment changed, amp or a send moves or the
   * cutoff glides far. Parameters advance with `skipParam` (it returns nothing) and the setters read
   * their numbers from `lane`.
   */
  private update(v: number, len: number): void {
    const b = this.bank;
    const lane = this.lane;
    const ps = this.voices.params.params;
    const i = v * NP;
    const cutoff = ps[i + CUTOFF];
    if (bigGlide(cutoff)) {
      // The cutoff at the chunk's middle on the kernel's own curve (then on to its end).
      const half = len >> 1;
      skipParam(cutoff, half);
      lane[0] = cutoff.value;
      lane[1] = ps[i + Q].value;
      b.setFilter(v, lane, 0);
      skipParam(cutoff, len - half);
    }
    const env = this.voices.envs[v];
    const level = env.level;
    const inc = env.remain > 0 ? env.inc : 0;
    const amp = ps[i + AMP];
    const a0 = amp.value;
    let step = inc * a0;
    if (amp.moving) {
      skipParam(amp, len);
      step = ((level + len * inc) * amp.value - level * a0) / len;
    }
    lane[0] = level * a0;
    lane[1] = step;
    b.setGain(v, lane, 0);
    if (this.perVoice) this.updateSends(v, len);
  }

  /** Whether the send levels at `sendVal[at …]` are those of the span's first bank voice. */
  private sameSends(at: number): boolean {
    const sendVal = this.voices.params.sendVal;
    const first = this.sendsAt;
    for (let k = 0; k < this.sends.length; k++) if (sendVal[at + k] !== sendVal[first + k]) return false;
    return true;
  }

  /** Lane v's send levels ramped over the chunk to the params' values at its end. */
  private updateSends(v: number, len: number): void {
    const lane = this.sendLane;
    const ns = this.sends.length;
    const ps = this.voices.params.sendParams;
    for (let k = 0; k < ns; k++) {
      const p = ps[v * ns + k];
      const l0 = p.value;
      skipParam(p, len);
      lane[2 * k] = l0;
      lane[2 * k + 1] = (p.value - l0) / len;
    }
    this.bank.setSends(v, lane, 0);
  }

  /** Mixes the bank's lanes over [start, end) and adds the sums into main and the sends. */
  private addOut(start: number, end: number): void {
    const b = this.bank;
    const perVoice = this.perVoice;
    b.mix(start, end, perVoice);
    const sends = this.sends;
    if (!perVoice && b.addsInto(this.main, start, end)) {
      // A whole block: in the bank's wasm, four frames at a time (the same sums as below).
      b.addInto(this.main, null, 0);
      const levels = this.voices.params.sendVal;
      for (let k = 0; k < sends.length; k++) {
        const bus = sends[k].bus;
        if (levels[this.sendsAt + k] > 0 && b.addsInto(bus, start, end)) b.addInto(bus, levels, this.sendsAt + k);
        else addToSend(bus, b.outMain, start, end, levels, this.sendsAt + k);
      }
      return;
    }
    addTo(this.main, b.outMain, start, end);
    if (perVoice) {
      const out = b.outSends;
      for (let k = 0; k < sends.length; k++) addTo(sends[k].bus, out[k], start, end);
    } else {
      addToSends(sends, b.outMain, start, end, this.voices.params.sendVal, this.sendsAt);
    }
  }
}

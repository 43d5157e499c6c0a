/**
 * A voice rendered by its own `VoiceDsp` (every voice the bank does not take: sine, square, noise,
 * portamento, smoothed pitch changes, taps, or all of them with `plugins.voices.bank: false`), added
 * into `main`, the sends and its taps.
 *
 * Moving parameters (kernel smoothing) are read per sample (`fill`); at rest `value` serves the whole
 * span. With a slide time set, the voice glides to the parameter's target itself, so the unsmoothed
 * `target` is fed instead (the slide reaches the new pitch in exactly slide_time).
 *
 * Thread: the constructor allocates (create); `render` is allocation-free.
 */
import type { Bus, Send } from 'plugin-sdk';
import { AMP_MOVING, CTL_AMP, CTL_CUTOFF, CTL_FREQ, CTL_Q, CUTOFF_MOVING, FREQ_MOVING } from './dsp.ts';
import { addSend, addTo } from './mix.ts';
import { NP, P } from './params.ts';
import type { VoiceSet } from './voice-set.ts';

const { freq: FREQ, amp: AMP, 'filter/freq': CUTOFF, 'filter/q': Q } = P;

export class VoiceRenderer {
  private readonly voices: VoiceSet;
  private readonly main: Bus;
  private readonly sends: readonly Send[];
  private readonly meters: Float32Array;
  private readonly scratch: Float32Array;
  private readonly preScratch: Float32Array;

  constructor(voices: VoiceSet, main: Bus, sends: readonly Send[], meters: Float32Array, maxBlock: number) {
    this.voices = voices;
    this.main = main;
    this.sends = sends;
    this.meters = meters;
    this.scratch = new Float32Array(maxBlock);
    this.preScratch = new Float32Array(maxBlock);
  }

  /** Voice v over [start, end), added into the buses; raises its meter. */
  render(v: number, start: number, end: number): void {
    const s = this.voices.slots[v];
    const ps = this.voices.params.params;
    const i = v * NP;
    const dsp = s.dsp;
    const scratch = this.scratch;
    let movingBits = 0;
    const freqP = ps[i + FREQ];
    let freq = freqP.value;
    if (dsp.sliding) {
      freq = freqP.target;
    } else if (freqP.moving) {
      freqP.fill(dsp.freqIn, start, end);
      movingBits |= FREQ_MOVING;
    }
    const ampP = ps[i + AMP];
    const amp = ampP.value;
    if (ampP.moving) {
      ampP.fill(dsp.ampIn, start, end);
      movingBits |= AMP_MOVING;
    }
    const cutoffP = ps[i + CUTOFF];
    const cutoff = cutoffP.value;
    if (cutoffP.moving) {
      cutoffP.fill(dsp.cutoffIn, start, end);
      movingBits |= CUTOFF_MOVING;
    }
    const pre = s.pre;
    const c = dsp.controls;
    c[CTL_FREQ] = freq;
    c[CTL_AMP] = amp;
    c[CTL_CUTOFF] = cutoff;
    c[CTL_Q] = ps[i + Q].value;
    dsp.render(scratch, start, end, movingBits, pre === undefined ? null : this.preScratch);
    this.addMain(v, start, end);
    const sends = this.sends;
    const levels = this.voices.params.sendParams;
    const j = v * sends.length;
    for (let k = 0; k < sends.length; k++) addSend(sends[k].bus, scratch, start, end, levels[j + k]);
    if (s.tap !== undefined) addTo(s.tap, scratch, start, end);
    if (pre !== undefined) addTo(pre, this.preScratch, start, end);
  }

  /** The rendered voice into `main`, its peak into its meter. */
  private addMain(v: number, start: number, end: number): void {
    const scratch = this.scratch;
    const l = this.main.l;
    const r = this.main.r;
    const meters = this.meters;
    let peak = meters[v];
    for (let i = start; i < end; i++) {
      const x = scratch[i];
      l[i] += x;
      r[i] += x;
      const ax = x < 0 ? -x : x;
      if (ax > peak) peak = ax;
    }
    meters[v] = peak;
  }
}

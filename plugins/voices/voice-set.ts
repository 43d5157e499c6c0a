/**
 * Every voice module of the instance and what a span needs to know about each: its slot (VoiceDsp,
 * taps), its parameters (voice-params.ts), whether it is idle, its envelope now, whether it slides
 * and whether it has a tap. Both renderers (voice-render.ts, scheduler.ts) read from here.
 *
 * Thread: the constructor allocates (create); every method is allocation-free.
 */
import { ADSR_IDLE, type Adsr, type PluginContext } from 'plugin-sdk';
import { NP, P } from './params.ts';
import { VoiceParams } from './voice-params.ts';
import { findTaps, makeSlot, type VoiceSlot } from './voice-slot.ts';

const { freq: FREQ, 'osc/type': TYPE, slide_time: SLIDE } = P;
/** The SDK's value, copied once: a plugin's read of an SDK export is a call into the engine's realm. */
const IDLE = ADSR_IDLE;
const { 'adsr/attack': ATTACK, 'adsr/decay': DECAY, 'adsr/sustain': SUSTAIN, 'adsr/release': RELEASE } = P;

export class VoiceSet {
  readonly count: number;
  readonly slots: VoiceSlot[];
  /** Each voice's envelope (`slots[v].dsp.env`). */
  readonly envs: Adsr[];
  readonly params: VoiceParams;
  /** Per voice: 1 while its envelope rests (`gather`). */
  readonly idle: Uint8Array;
  /** The span's envelope of each non-idle voice: level, step per frame, frames left in the segment (3 per voice). */
  readonly envNow: Float64Array;
  /** Per voice: a slide is set (VoiceDsp.sliding); no tap bus is open (a bank voice has none). */
  readonly sliding: Uint8Array;
  readonly tapless: Uint8Array;
  /** The block controls (envelope, slide) last given to each dsp, indexed like `params.val` (NaN: never). */
  private readonly given: Float64Array;
  private readonly ctx: PluginContext;

  constructor(ctx: PluginContext) {
    const count = ctx.modules.length;
    this.ctx = ctx;
    this.count = count;
    this.params = new VoiceParams(ctx, count);
    const ps = this.params.params;
    this.slots = [];
    for (let v = 0; v < count; v++) this.slots.push(makeSlot(ctx, v, ps[v * NP + FREQ].value, ps[v * NP + TYPE].value));
    this.envs = this.slots.map((s) => s.dsp.env);
    this.idle = new Uint8Array(count);
    this.envNow = new Float64Array(count * 3);
    this.sliding = new Uint8Array(count);
    this.tapless = new Uint8Array(count);
    this.given = new Float64Array(count * NP).fill(NaN);
  }

  /** Looks for voice v's tap buses not found yet. */
  lookForTaps(v: number): void {
    this.tapless[v] = findTaps(this.ctx, this.slots[v]) ? 1 : 0;
  }

  /** Looks again for every tap bus not found yet (a plugin loaded later opens them). */
  recheckTaps(): void {
    for (let v = 0; v < this.count; v++) {
      const s = this.slots[v];
      if (s.tap === undefined || s.pre === undefined) this.lookForTaps(v);
    }
  }

  /**
   * At a span start: which voices are idle, and the parameters and envelopes of the others. The
   * envelopes' fields are read, not their methods called: the Adsr objects belong to the SDK's realm.
   */
  gather(): void {
    const envs = this.envs;
    const idle = this.idle;
    for (let v = 0; v < this.count; v++) idle[v] = envs[v].stage === IDLE ? 1 : 0;
    for (let v = 0; v < this.count; v++) {
      if (idle[v] !== 0) continue;
      this.params.read(v);
      this.readEnv(v);
    }
  }

  /** Voice v's parameters read and its block controls given (a gate, a state, create). */
  prime(v: number): void {
    this.params.read(v);
    this.syncBlockParams(v);
  }

  /** Voice v's envelope now into `envNow`. */
  readEnv(v: number): void {
    const env = this.envs[v];
    const envNow = this.envNow;
    const remain = env.remain;
    envNow[3 * v] = env.level;
    envNow[3 * v + 1] = remain > 0 ? env.inc : 0;
    envNow[3 * v + 2] = remain;
  }

  /** Voice v's per-block controls (envelope times, slide) from the span's values; nothing to do when unchanged. */
  syncBlockParams(v: number): void {
    const val = this.params.val;
    const given = this.given;
    const i = v * NP;
    const a = val[i + ATTACK];
    const d = val[i + DECAY];
    const su = val[i + SUSTAIN];
    const r = val[i + RELEASE];
    if (a !== given[i + ATTACK] || d !== given[i + DECAY] || su !== given[i + SUSTAIN] || r !== given[i + RELEASE]) {
      given[i + ATTACK] = a;
      given[i + DECAY] = d;
      given[i + SUSTAIN] = su;
      given[i + RELEASE] = r;
      this.slots[v].dsp.setEnvelope(a, d, su, r);
      this.readEnv(v);
    }
    const sl = val[i + SLIDE];
    if (sl !== given[i + SLIDE]) {
      given[i + SLIDE] = sl;
      const dsp = this.slots[v].dsp;
      dsp.setSlide(sl);
      this.sliding[v] = dsp.sliding ? 1 : 0;
    }
  }
}

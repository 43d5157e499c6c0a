/**
 * The files `chronus new-plugin` writes, one set per role. Placeholders: `__ID__` (plugin id),
 * `__NAME__` (display name), `__MODULE__` (its one module id), `__BUS__` (a send's bus: the name
 * with "_" for "-"). Each set loads as it is and passes the conformance suite
 * (test/new-plugin.test.ts checks every role).
 */
import type { Role } from '../kernel/plugins/manifest.ts';

export interface Template {
  /** What the plugin does, for plugin.json. */
  description: string;
  /** Extra manifest fields (a bus). */
  manifest: Record<string, unknown>;
  index: string;
  dsp: string;
}

const HEADER = (hooks: string) => `/**
 * The \`__ID__\` plugin (module \`__MODULE__\`), scaffolded by \`chronus new-plugin\`. index.ts binds the
 * parameter table to the pure DSP in dsp.ts. See docs/plugin-guide.md.
 *
 * | hook        | thread / when                      | does                                                  |
 * | ----------- | ---------------------------------- | ----------------------------------------------------- |
${hooks} */`;

const source: Template = {
  description: 'A gated sine tone added into the main bus and, at its send levels, into every send bus (scaffolded: edit dsp.ts and the table).',
  manifest: {},
  index: `${HEADER(` * | create      | audio thread, between blocks       | keeps the Param objects, its sends and buffers        |
 * | gate        | inside a block                     | opens (value > 0) or releases the tone                |
 * | process     | inside a block, frames [start,end) | renders the tone, adds it into \`main\` and × each    |
 * |             |                                    | \`send/<bus>\` level into that send bus               |
 * | getState    | between blocks                     | \`{ v: 1, phase }\`; 'reload' adds \`env\` and \`gate\`     |
 * | setState    | between blocks                     | restores the phase; ignores a state that fails         |
`)}
import { definePlugin, z, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { addInto, addScaled, renderTone, type ToneState } from './dsp.ts';

const params = {
  freq: { min: 20, max: 5000, default: 220, unit: 'Hz', description: 'Frequency of the tone' },
  amp: { min: 0, max: 1, default: 0.2, description: 'Level of the tone' },
} satisfies ParamTable;

/** What setState takes: every field optional (older states load), every number bounded. */
const State = z.object({ v: z.literal(1), phase: z.number().min(0).max(1), env: z.number().min(0).max(1), gate: z.union([z.literal(0), z.literal(1)]) }).partial();

export default definePlugin({
  params,
  gates: true,
  // The kernel adds send/<bus> (0–1) to the module for every send bus a loaded plugin declares
  // (reverb, delay, chorus, …) and hands the buses and levels over in ctx.sends.
  sends: true,
  stateSchema: State,
  create(ctx: PluginContext) {
    // Everything is allocated here: process() allocates nothing.
    const freq = ctx.param(0, 'freq');
    const amp = ctx.param(0, 'amp');
    const freqs = new Float32Array(ctx.maxBlock);
    const amps = new Float32Array(ctx.maxBlock);
    const gains = new Float32Array(ctx.maxBlock);
    const out = new Float32Array(ctx.maxBlock);
    const main = ctx.bus('main');
    const sends = ctx.sends;
    const levels = sends.map((send) => send.level(0));
    const tone: ToneState = { phase: 0, env: 0, gate: 0 };
    const envCoef = 1 - Math.exp(-1 / (0.005 * ctx.sampleRate));
    return {
      gate(_module: number, value: number): void {
        tone.gate = value > 0 ? 1 : 0;
      },
      process(start: number, end: number): void {
        if (tone.gate === 0 && tone.env < 1e-6) {
          tone.env = 0;
          return;
        }
        freq.fill(freqs, start, end);
        amp.fill(amps, start, end);
        renderTone(out, start, end, freqs, amps, ctx.sampleRate, envCoef, tone);
        addInto(main, out, start, end);
        for (let k = 0; k < sends.length; k++) {
          const level = levels[k];
          if (!level.moving && level.value === 0) continue; // this send is off
          level.fill(gains, start, end);
          addScaled(sends[k].bus, out, start, end, gains);
        }
      },
      // 'reload' (hot reload, session snapshots): everything the next blocks depend on; 'save' (patterns): the phase.
      getState: (purpose?: StatePurpose) => (purpose === 'reload' ? { v: 1, phase: tone.phase, env: tone.env, gate: tone.gate } : { v: 1, phase: tone.phase }),
      setState(state: unknown): void {
        const parsed = State.safeParse(state);
        if (!parsed.success) return;
        tone.phase = parsed.data.phase ?? 0;
        if (parsed.data.env !== undefined) tone.env = parsed.data.env;
        if (parsed.data.gate !== undefined) tone.gate = parsed.data.gate;
      },
    };
  },
});
`,
  dsp: `/**
 * __MODULE__, pure DSP: a sine tone with a one-pole attack/release envelope, and adding a mono
 * signal into a stereo bus. Every input is explicit; allocation-free.
 */

export interface ToneState {
  /** Phase in cycles, [0, 1). */
  phase: number;
  /** Envelope level, 0 … 1. */
  env: number;
  /** Gate: 1 open, 0 released. */
  gate: number;
}

export interface Stereo {
  readonly l: Float32Array;
  readonly r: Float32Array;
}

/**
 * Writes a sine of frequency \`freq[i]\` Hz and level \`amp[i]\` × envelope into \`out\` over
 * [start, end). The envelope moves towards \`s.gate\` by \`envCoef\` of the way each sample.
 */
export function renderTone(
  out: Float32Array,
  start: number,
  end: number,
  freq: Float32Array,
  amp: Float32Array,
  sampleRate: number,
  envCoef: number,
  s: ToneState,
): void {
  let phase = s.phase;
  let env = s.env;
  const target = s.gate;
  for (let i = start; i < end; i++) {
    env += (target - env) * envCoef;
    out[i] = Math.sin(2 * Math.PI * phase) * amp[i] * env;
    phase += freq[i] / sampleRate;
    if (phase >= 1) phase -= Math.floor(phase);
  }
  s.phase = phase;
  s.env = env;
}

/** Adds mono \`src\` into both channels of \`bus\` over [start, end). */
export function addInto(bus: Stereo, src: Float32Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    bus.l[i] += src[i];
    bus.r[i] += src[i];
  }
}

/** Adds mono \`src\` × \`gain[i]\` into both channels of \`bus\` over [start, end). */
export function addScaled(bus: Stereo, src: Float32Array, start: number, end: number, gain: Float32Array): void {
  for (let i = start; i < end; i++) {
    const x = src[i] * gain[i];
    bus.l[i] += x;
    bus.r[i] += x;
  }
}
`,
};

const effect: Template = {
  description: 'A soft-clipping gain stage on the main bus (scaffolded: edit dsp.ts and the table).',
  manifest: { bus: 'main' },
  index: `${HEADER(` * | create      | audio thread, between blocks       | keeps the Param objects and a buffer                  |
 * | process     | inside a block, frames [start,end) | shapes \`main\` in place                                |
`)}
import { definePlugin, type ParamTable, type PluginContext } from 'plugin-sdk';
import { softClip } from './dsp.ts';

const params = {
  drive: { min: 0, max: 1, default: 0, description: 'Drive into the soft clipper (0 = unity, untouched)' },
} satisfies ParamTable;

export default definePlugin({
  params,
  create(ctx: PluginContext) {
    const drive = ctx.param(0, 'drive');
    const drives = new Float32Array(ctx.maxBlock);
    const main = ctx.bus('main');
    return {
      process(start: number, end: number): void {
        // At rest with no drive the bus passes untouched.
        if (!drive.moving && drive.value === 0) return;
        drive.fill(drives, start, end);
        softClip(main.l, main.r, start, end, drives);
      },
    };
  },
});
`,
  dsp: `/**
 * __MODULE__, pure DSP: a soft clipper. Allocation-free; every input explicit.
 */

/** The clipping curve: x / (1 + |x|), bounded by ±1. */
export function clip(x: number): number {
  return x / (1 + Math.abs(x));
}

/**
 * Shapes \`l\` and \`r\` in place over [start, end): pre-gain 1 + 9·drive into \`clip\`, blended in by
 * \`drive\` (0 leaves the signal as it is).
 */
export function softClip(l: Float32Array, r: Float32Array, start: number, end: number, drive: Float32Array): void {
  for (let i = start; i < end; i++) {
    const d = drive[i];
    const g = 1 + 9 * d;
    l[i] += (clip(l[i] * g) - l[i]) * d;
    r[i] += (clip(r[i] * g) - r[i]) * d;
  }
}
`,
};

const send: Template = {
  description: 'A send effect: returns its send bus into master through a one-pole low-pass (scaffolded: edit dsp.ts and the table).',
  manifest: { bus: '__BUS__' },
  index: `${HEADER(` * | create      | audio thread, between blocks       | keeps the Param objects, buffers, filter state        |
 * | process     | inside a block, frames [start,end) | filters its send bus and adds it into \`master\`        |
 * | getState    | between blocks                     | 'reload': \`{ v: 1, l, r }\`, the filter's memories     |
 * | setState    | between blocks (after create)      | restores them; ignores a state that fails the schema  |
`)}
import { definePlugin, z, type Bus, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { lowpassInto, type LowpassState } from './dsp.ts';

const params = {
  level: { min: 0, max: 1, default: 0.5, description: 'Return level into master' },
  cutoff: { min: 100, max: 16000, default: 4000, unit: 'Hz', smoothingMs: 0, description: 'Low-pass cutoff of the return' },
} satisfies ParamTable;

/** The filter's memories (hot reload, session snapshots): bounded, every field optional. */
const State = z.object({ v: z.literal(1), l: z.number().min(-1e6).max(1e6), r: z.number().min(-1e6).max(1e6) }).partial();

export default definePlugin({
  params,
  stateSchema: State,
  create(ctx: PluginContext) {
    const level = ctx.param(0, 'level');
    const cutoff = ctx.param(0, 'cutoff');
    const levels = new Float32Array(ctx.maxBlock);
    // Its own send bus, send:__BUS__ ("bus" in plugin.json): every source that takes sends has a
    // send/__BUS__ level feeding it while this plugin is loaded.
    const input = ctx.ownBus as Bus;
    const master = ctx.bus('master');
    const state: LowpassState = { l: 0, r: 0 };
    return {
      process(start: number, end: number): void {
        level.fill(levels, start, end);
        const coef = 1 - Math.exp((-2 * Math.PI * cutoff.value) / ctx.sampleRate);
        lowpassInto(master, input, start, end, levels, coef, state);
      },
      // 'reload' only: a pattern keeps no filter memories.
      getState: (purpose?: StatePurpose) => (purpose === 'reload' ? { v: 1, l: state.l, r: state.r } : undefined),
      setState(s: unknown): void {
        const parsed = State.safeParse(s);
        if (!parsed.success) return;
        state.l = parsed.data.l ?? state.l;
        state.r = parsed.data.r ?? state.r;
      },
    };
  },
});
`,
  dsp: `/**
 * __MODULE__, pure DSP: a one-pole low-pass from one stereo bus added into another. Allocation-free.
 */

export interface LowpassState {
  l: number;
  r: number;
}

export interface Stereo {
  readonly l: Float32Array;
  readonly r: Float32Array;
}

/** Adds low-passed \`src\` × \`gain[i]\` into \`dst\` over [start, end); \`coef\` is the one-pole's 1 − e^(−2πfc/fs). */
export function lowpassInto(dst: Stereo, src: Stereo, start: number, end: number, gain: Float32Array, coef: number, s: LowpassState): void {
  let yl = s.l;
  let yr = s.r;
  for (let i = start; i < end; i++) {
    yl += (src.l[i] - yl) * coef;
    yr += (src.r[i] - yr) * coef;
    dst.l[i] += yl * gain[i];
    dst.r[i] += yr * gain[i];
  }
  // Denormal guard: a silent input lets the state decay to exactly 0.
  s.l = Math.abs(yl) < 1e-20 ? 0 : yl;
  s.r = Math.abs(yr) < 1e-20 ? 0 : yr;
}
`,
};

const modulator: Template = {
  description: 'A sine LFO that modulates one parameter (config plugins.__ID__.target, default /mod/voice1/amp) (scaffolded).',
  manifest: {},
  index: `${HEADER(` * | create      | audio thread, between blocks       | resolves the target address                           |
 * | beginBlock  | audio thread, block start          | re-resolves now and then; sends this block's offset   |
 * | process     | inside a block                     | nothing (a modulator makes no audio)                  |
 * | getState    | between blocks                     | 'reload': \`{ v: 1, phase, resolveIn }\`                |
 * | setState    | between blocks (after create)      | restores them; ignores a state that fails the schema  |
 * | dispose     | between blocks                     | returns the target to its base value                  |
`)}
import { definePlugin, z, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { sineAt } from './dsp.ts';

const params = {
  rate: { min: 0.01, max: 20, default: 1, unit: 'Hz', smoothingMs: 0, description: 'LFO speed' },
  depth: { min: 0, max: 1, default: 0, smoothingMs: 0, description: "Offset at the peak, in the target parameter's units" },
} satisfies ParamTable;

/** Where the LFO is (hot reload, session snapshots): bounded, every field optional. */
const State = z.object({ v: z.literal(1), phase: z.number().min(0).max(1), resolveIn: z.number().int().min(-1e6).max(1e6) }).partial();

export default definePlugin({
  params,
  stateSchema: State,
  create(ctx: PluginContext) {
    const rate = ctx.param(0, 'rate');
    const depth = ctx.param(0, 'depth');
    const events = ctx.events;
    const address = typeof ctx.config.target === 'string' ? ctx.config.target : '/mod/voice1/amp';
    let target = events.paramIndex(address);
    let resolveIn = 0;
    // What changes every block lives in an array: a closure variable holding a fraction, or a
    // fraction passed to events.modulate, is boxed on the heap at every block (plugin-guide.md).
    const now = new Float64Array(2); // [PHASE] in [0, 1), [OFFSET] the offset sent this block
    const PHASE = 0;
    const OFFSET = 1;
    return {
      beginBlock(blockStart: number, frames: number): void {
        // The target's plugin may load after this one: look again about once a second.
        resolveIn -= frames;
        if (resolveIn <= 0) {
          resolveIn = ctx.sampleRate;
          target = events.paramIndex(address);
        }
        if (target >= 0) {
          now[OFFSET] = depth.value * sineAt(now[PHASE]);
          events.modulateFrom(blockStart, target, now, OFFSET);
        }
        const phase = now[PHASE] + (rate.value * frames) / ctx.sampleRate;
        now[PHASE] = phase - Math.floor(phase);
      },
      process(): void {},
      getState: (purpose?: StatePurpose) => (purpose === 'reload' ? { v: 1, phase: now[PHASE], resolveIn } : undefined),
      setState(state: unknown): void {
        const parsed = State.safeParse(state);
        if (!parsed.success) return;
        now[PHASE] = parsed.data.phase ?? now[PHASE];
        resolveIn = parsed.data.resolveIn ?? resolveIn;
      },
      dispose(): void {
        if (target >= 0) events.modulate(events.blockStart, target, 0);
      },
    };
  },
});
`,
  dsp: `/**
 * __MODULE__, pure DSP: the LFO's waveform.
 */

/** A sine of \`phase\` cycles: −1 … 1. */
export function sineAt(phase: number): number {
  return Math.sin(2 * Math.PI * phase);
}
`,
};

const controller: Template = {
  description: 'A metronome: opens and closes one module\'s gate on every beat (config plugins.__ID__.module, default voice1) (scaffolded).',
  manifest: {},
  index: `${HEADER(` * | create      | audio thread, between blocks       | resolves the gate of the module it plays              |
 * | beginBlock  | audio thread, block start          | schedules this block's gate events (sample-accurate)  |
 * | process     | inside a block                     | nothing (a controller makes no audio)                 |
`)}
import { definePlugin, type ParamTable, type PluginContext } from 'plugin-sdk';
import { nextBeat } from './dsp.ts';

const params = {
  bpm: { type: 'int', min: 30, max: 300, default: 120, description: 'Beats per minute' },
  on: { type: 'enum', values: ['off', 'on'], min: 0, max: 1, default: 0, description: 'Play (1) or stay silent (0)' },
} satisfies ParamTable;

export default definePlugin({
  params,
  create(ctx: PluginContext) {
    const bpm = ctx.param(0, 'bpm');
    const on = ctx.param(0, 'on');
    const events = ctx.events;
    const module = typeof ctx.config.module === 'string' ? ctx.config.module : 'voice1';
    let gate = events.gateIndex(module);
    let resolveIn = 0;
    return {
      beginBlock(blockStart: number, frames: number): void {
        resolveIn -= frames;
        if (resolveIn <= 0) {
          resolveIn = ctx.sampleRate;
          gate = events.gateIndex(module);
        }
        if (gate < 0 || on.value < 0.5) return;
        const period = Math.round((60 / bpm.value) * ctx.sampleRate);
        const end = blockStart + frames;
        // A note on at each beat, off half a beat later.
        for (let f = nextBeat(blockStart, period); f < end; f += period) events.gate(f, gate, 1);
        for (let f = nextBeat(blockStart, period, period >> 1); f < end; f += period) events.gate(f, gate, 0);
      },
      process(): void {},
    };
  },
});
`,
  dsp: `/**
 * __MODULE__, pure timing: where beats fall on the engine's frame clock.
 */

/** The first frame at or after \`frame\` that is \`offset\` past a multiple of \`period\` frames. */
export function nextBeat(frame: number, period: number, offset = 0): number {
  const k = Math.ceil((frame - offset) / period);
  return k * period + offset;
}
`,
};

const sink: Template = {
  description: 'A peak meter on master: a peak follower written into a level meter the control thread reads (scaffolded).',
  manifest: {},
  index: `${HEADER(` * | create      | audio thread, between blocks       | one meter; keeps the Param object                     |
 * | process     | inside a block, frames [start,end) | follows the peak of \`master\` (reads only)             |
`)}
import { definePlugin, type ParamTable, type PluginContext } from 'plugin-sdk';
import { followPeak } from './dsp.ts';

const params = {
  release: { min: 0.01, max: 5, default: 0.3, unit: 's', smoothingMs: 0, description: 'Time for the meter to fall by 60 dB' },
} satisfies ParamTable;

export default definePlugin({
  params,
  create(ctx: PluginContext) {
    const release = ctx.param(0, 'release');
    const master = ctx.bus('master');
    const meter = ctx.meters(1);
    let level = 0;
    return {
      process(start: number, end: number): void {
        // A -60 dB fall over release seconds: per sample e^(ln(0.001) / (release · fs)).
        const fall = Math.exp(Math.log(0.001) / (release.value * ctx.sampleRate));
        level = followPeak(master.l, master.r, start, end, level, fall);
        meter[0] = Math.max(meter[0], level);
      },
    };
  },
});
`,
  dsp: `/**
 * __MODULE__, pure DSP: a peak follower. Allocation-free; reads only.
 */

/** Follows the peak of \`l\` and \`r\` over [start, end) from \`level\`, falling by \`fall\` per sample; returns the level. */
export function followPeak(l: Float32Array, r: Float32Array, start: number, end: number, level: number, fall: number): number {
  let y = level;
  for (let i = start; i < end; i++) {
    const a = Math.max(Math.abs(l[i]), Math.abs(r[i]));
    y = a > y ? a : y * fall;
  }
  // Non-finite input never sticks in the meter.
  return Number.isFinite(y) && y > 1e-20 ? y : 0;
}
`,
};

export const TEMPLATES: Readonly<Record<Role, Template>> = { source, effect, send, modulator, controller, sink };

/**
 * The voices plugin's parameter table — the one list of a voice's parameters — and the row layout
 * derived from it: every per-voice array (voice-params.ts) holds a voice's parameters in a row of
 * `NP` slots in table order, parameter `name` at `P[name]`, its moving flag at bit `bit(name)`.
 * A new parameter is one new row here; ids never change once released (append only).
 *
 * The send levels are not in the table: the plugin takes sends (`sends: true`), so the kernel gives
 * every voice a `send/<bus>` for each send bus a loaded plugin declares (`send/reverb`,
 * `send/delay`, …); voice-params.ts reads them from `ctx.sends` beside the row.
 */
import type { ParamTable } from 'plugin-sdk';

export const params = {
  freq: { min: 20, max: 5000, default: 440, unit: 'Hz', description: 'Oscillator frequency' },
  amp: { min: 0, max: 1, default: 0.3, description: 'Voice level (multiplies the envelope)' },
  'osc/type': {
    type: 'enum',
    min: 0,
    max: 5,
    default: 0,
    values: ['sine', 'saw', 'square', 'white', 'pink', 'brown'],
    smoothingMs: 0,
    description: 'Waveform: 0 sine, 1 saw, 2 square, 3 white, 4 pink, 5 brown noise',
  },
  'filter/freq': { min: 50, max: 8000, default: 1000, unit: 'Hz', description: 'Lowpass cutoff (2-pole TPT state-variable filter)' },
  'filter/q': { min: 0.5, max: 10, default: 2, description: 'Lowpass resonance, linear Q (0.707 = no peak)' },
  'adsr/attack': { min: 0.001, max: 2, default: 0.01, unit: 'seconds', smoothingMs: 0, description: 'Attack time, 0 to 1' },
  'adsr/decay': { min: 0, max: 2, default: 0.1, unit: 'seconds', smoothingMs: 0, description: 'Decay time, 1 to sustain' },
  'adsr/sustain': {
    min: 0,
    max: 1,
    default: 0.7,
    smoothingMs: 0,
    description: 'Sustain level (a change glides over 5 ms inside the envelope)',
  },
  'adsr/release': { min: 0.01, max: 3, default: 0.5, unit: 'seconds', smoothingMs: 0, description: 'Release time, current level to 0' },
  slide_time: { min: 0, max: 1.5, default: 0, unit: 'seconds', smoothingMs: 0, description: 'Portamento: glide time to a new frequency (0 = jump)' },
} satisfies ParamTable;

export type ParamName = keyof typeof params;

/** The parameter names in table order (a voice's row). */
export const PARAM_NAMES = Object.keys(params) as ParamName[];

/** Slots per voice in every per-voice parameter array. */
export const NP = PARAM_NAMES.length;

/** Each parameter's slot in a voice's row: voice v's `filter/freq` is at `v * NP + P['filter/freq']`. */
export const P = Object.fromEntries(PARAM_NAMES.map((name, i) => [name, i])) as Readonly<Record<ParamName, number>>;

/** The bit of parameter `name` in a voice's moving mask (`VoiceParams.moving`). */
export function bit(name: ParamName): number {
  return 1 << P[name];
}

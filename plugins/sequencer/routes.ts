/**
 * The sequencer's OSC routes (`/seq/...`, OSC.md "Sequencer"): each with a zod schema over the OSC
 * argument list. The kernel checks the arguments on the control thread and hands the parsed value
 * to `command()` between blocks, so a bad message is answered with `/error` and never reaches audio.
 */
import { z, type PluginRoute } from 'plugin-sdk';
import { parseNotes } from './notes.ts';
import { MAX_PATTERN_STEPS, TRACK_DEFAULTS, TRACK_NAME_RE, TRACK_RANGES, VOICE_RE } from './state.ts';

const oscArg = z.union([z.string(), z.number(), z.boolean()]);
const none = z.tuple([]);
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A number, or a string holding one (old clients send either). */
const numeric = z.union([z.number(), z.string().regex(NUMBER_RE, { error: 'expected a number' }).transform(Number)], { error: 'expected a number' });

const trackArg = z.union([z.string(), z.number().int().min(0)]).transform(String).pipe(z.string().regex(TRACK_NAME_RE, { error: 'expected a track name: 1–32 letters, digits, "_", "-" or "." (e.g. "kick")' }));
const voiceArg = z.string().regex(VOICE_RE, { error: 'expected a voice module id such as "voice1"' });
const patternArg = z
  .string({ error: 'expected a pattern string such as "X...x..."' })
  .min(1, { error: 'a pattern needs at least one step' })
  .max(MAX_PATTERN_STEPS, { error: `a pattern has at most ${MAX_PATTERN_STEPS} steps` });

/** A note list in one or more arguments (`"C2 Eb2"`, `"36,40"`, or `36 40 43`). */
function notesFrom(parts: readonly (string | number | boolean)[], ctx: z.RefinementCtx, index: number): number[] | undefined {
  const parsed = parseNotes(parts.map(String).join(' '));
  if (parsed.ok) return parsed.notes;
  ctx.addIssue({ code: 'custom', message: parsed.error, path: [index] });
  return undefined;
}

export type TrackOptionKey = keyof typeof TRACK_DEFAULTS;
const OPTION_KEYS = Object.keys(TRACK_DEFAULTS) as TrackOptionKey[];
const POSITIONAL: readonly (TrackOptionKey | 'notes')[] = ['base_freq', 'filter_freq', 'notes'];

export interface AddArgs {
  track: string;
  voice: string;
  pattern: string;
  options: Partial<Record<TrackOptionKey, number>>;
  notes?: number[];
}

const USAGE = 'expected <track> <voice> <pattern> [base_freq] [filter_freq] [notes] [key=value ...]';

/** `/seq/add <track> <voice> <pattern> [base_freq] [filter_freq] [notes] [key=value ...]` */
export const addArgs = z
  .array(oscArg)
  .min(3, { error: USAGE })
  .max(3 + POSITIONAL.length + OPTION_KEYS.length + 1, { error: `too many arguments; ${USAGE}` })
  .transform((args, ctx): AddArgs => {
    const issue = (i: number, message: string) => ctx.addIssue({ code: 'custom', message, path: [i] });
    const track = trackArg.safeParse(args[0]);
    if (!track.success) issue(0, track.error.issues[0].message);
    const voice = voiceArg.safeParse(args[1]);
    if (!voice.success) issue(1, voice.error.issues[0].message);
    const pattern = patternArg.safeParse(args[2]);
    if (!pattern.success) issue(2, pattern.error.issues[0].message);
    const out: AddArgs = { track: track.data ?? '', voice: voice.data ?? '', pattern: pattern.data ?? '', options: {} };
    const setOption = (i: number, key: TrackOptionKey, raw: unknown) => {
      const v = numeric.safeParse(raw);
      const [min, max] = TRACK_RANGES[key];
      if (!v.success || !Number.isFinite(v.data)) issue(i, `${key}: expected a number (found ${JSON.stringify(raw)})`);
      else if (v.data < min || v.data > max) issue(i, `${key} must be ${min}–${max} (found ${v.data})`);
      else out.options[key] = v.data;
    };
    for (let i = 3; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'string' && a.includes('=')) {
        const eq = a.indexOf('=');
        const key = a.slice(0, eq).trim();
        const value = a.slice(eq + 1).trim();
        if (key === 'notes') out.notes = notesFrom([value], ctx, i);
        else if ((OPTION_KEYS as string[]).includes(key)) setOption(i, key as TrackOptionKey, value);
        else issue(i, `unknown track key "${key.slice(0, 40)}"; keys: ${OPTION_KEYS.join(', ')}, notes`);
        continue;
      }
      const slot = POSITIONAL[i - 3];
      if (slot === undefined) issue(i, `unexpected argument ${JSON.stringify(a)}; give further settings as key=value`);
      else if (slot === 'notes') out.notes = notesFrom([a], ctx, i);
      else setOption(i, slot, a);
    }
    return out;
  });

export const removeArgs = z.tuple([trackArg]);
export const patternArgs = z.tuple([trackArg, patternArg]);
/** `/seq/update/notes <track> <notes...>` */
export const notesArgs = z
  .array(oscArg)
  .min(1, { error: 'expected <track> <notes>' })
  .max(1025)
  .transform((args, ctx) => {
    const track = trackArg.safeParse(args[0]);
    if (!track.success) ctx.addIssue({ code: 'custom', message: track.error.issues[0].message, path: [0] });
    const notes = notesFrom(args.slice(1), ctx, 1) ?? [];
    return { track: track.data ?? '', notes };
  });
export const bpmArgs = z.tuple([numeric.refine(Number.isFinite, { error: 'expected a finite number' })]);
export const swingArgs = bpmArgs;

export const ROUTES: readonly PluginRoute[] = [
  {
    address: '/seq/add',
    args: addArgs,
    usage: ['track_id', 'voice_id', 'pattern', '[base_freq]', '[filter_freq]', '[notes]', '[key=value ...]'],
    description: `add or replace a track: ${USAGE.slice(9)}; keys base_freq, base_amp, filter_freq, accent_boost, reverb_send, delay_send, gate_frac, notes`,
  },
  { address: '/seq/remove', args: removeArgs, usage: ['track_id'], description: 'remove a track: <track>' },
  { address: '/seq/clear', args: none, usage: [], description: 'remove every track (held notes are released)' },
  { address: '/seq/start', args: none, usage: [], description: 'start from step 0 at the next block' },
  { address: '/seq/stop', args: none, usage: [], description: 'stop and release every note the sequencer holds' },
  { address: '/seq/bpm', args: bpmArgs, usage: ['bpm_value'], description: 'tempo: <30–300> BPM (clamped); steps are 16ths' },
  { address: '/seq/swing', args: swingArgs, usage: ['swing_amount'], description: 'swing: <0–0.6> (clamped); odd 16ths are late by swing × half a step' },
  { address: '/seq/update/pattern', args: patternArgs, usage: ['track_id', 'new_pattern'], description: 'new pattern for a track: <track> <pattern> (X accent, x normal, anything else a rest)' },
  {
    address: '/seq/update/notes',
    args: notesArgs,
    usage: ['track_id', 'notes_string'],
    description: 'new notes for a track: <track> <notes> (Hz with "." or above 127, MIDI numbers 0–127 or names like C#4; comma or space separated)',
  },
  { address: '/seq/status', args: none, usage: [], reply: '/seq/status', description: 'reply /seq/status <json>: tempo, swing, running, step, tracks (also printed on the engine console)' },
];

/**
 * The sequencer's state as plain JSON (hot reload, `/seq/status`, pattern slots), validated with zod.
 *
 * ```
 * { v: 1, bpm, swing, running,
 *   tracks: [{ name, voice, pattern, notes: [Hz…], base_freq, base_amp, filter_freq, accent_boost,
 *              reverb_send, delay_send, gate_frac, note_index }],
 *   position?: { step, anchorFrame, anchorStep },   // runtime: used by hot reload only
 *   pendingOffs?: [[gate, frame], …],               // runtime: used by hot reload only
 *   staged?: { bpm, swing, tracks },                // runtime: a pattern load waiting for the bar
 *   applyAt?: 'bar' | 'now' }                        // set by pattern loads, never saved
 * ```
 * Missing fields take their defaults (older states load); unknown keys, wrong types and values out of
 * range are refused with the field and the reason, and nothing changes.
 */
import { formatZodIssues, z } from 'plugin-sdk';
import { MAX_NOTE_HZ, MAX_NOTES, MIN_NOTE_HZ } from './notes.ts';

export const STATE_VERSION = 1;
export const MAX_TRACKS = 64;
export const MAX_PATTERN_STEPS = 4096;
export const MIN_BPM = 30;
export const MAX_BPM = 300;
export const MAX_SWING = 0.6;
export const MIN_GATE_FRAC = 0.01;

export const TRACK_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
export const VOICE_RE = /^[a-z][a-z0-9_]{0,31}$/;

export const trackName = z.string().regex(TRACK_NAME_RE, { error: 'must be a track name: 1–32 letters, digits, "_", "-" or "." (e.g. "kick")' });
export const voiceId = z.string().regex(VOICE_RE, { error: 'must be a module id such as "voice1"' });
export const patternText = z.string().min(1, { error: 'must have at least one step' }).max(MAX_PATTERN_STEPS, { error: `must have at most ${MAX_PATTERN_STEPS} steps` });

const num = (min: number, max: number) => z.number().min(min).max(max);

/** Track settings (the `key=value` options of `/seq/add`), with Music Chronus's defaults. */
export const TRACK_DEFAULTS = {
  base_freq: 440,
  base_amp: 0.3,
  filter_freq: 1000,
  accent_boost: 1500,
  reverb_send: 0,
  delay_send: 0,
  gate_frac: 0.5,
} as const;

export const TRACK_RANGES: Readonly<Record<keyof typeof TRACK_DEFAULTS, readonly [number, number]>> = {
  base_freq: [MIN_NOTE_HZ, MAX_NOTE_HZ],
  base_amp: [0, 1],
  filter_freq: [0, MAX_NOTE_HZ],
  accent_boost: [-MAX_NOTE_HZ, MAX_NOTE_HZ],
  reverb_send: [0, 1],
  delay_send: [0, 1],
  gate_frac: [MIN_GATE_FRAC, 1],
};

/**
 * The track settings that set a send level at each hit, the old engine's `<bus>_send` keys, and the
 * bus each one feeds: `reverb_send` sets the voice's `send/reverb`.
 */
export const SEND_KEYS = (Object.keys(TRACK_DEFAULTS) as (keyof typeof TRACK_DEFAULTS)[])
  .filter((key) => key.endsWith('_send'))
  .map((key) => ({ key, bus: key.slice(0, -'_send'.length) }));

const option = (k: keyof typeof TRACK_DEFAULTS) => num(TRACK_RANGES[k][0], TRACK_RANGES[k][1]).default(TRACK_DEFAULTS[k]);

export const TrackSchema = z.strictObject({
  name: trackName,
  voice: voiceId,
  pattern: patternText,
  notes: z.array(num(MIN_NOTE_HZ, MAX_NOTE_HZ)).max(MAX_NOTES).default([]),
  base_freq: option('base_freq'),
  base_amp: option('base_amp'),
  filter_freq: option('filter_freq'),
  accent_boost: option('accent_boost'),
  reverb_send: option('reverb_send'),
  delay_send: option('delay_send'),
  gate_frac: option('gate_frac'),
  note_index: z.number().int().min(0).max(1_000_000).default(0),
});

export type TrackSpec = z.output<typeof TrackSchema>;

const frame = z.number().min(-1e15).max(1e15);

export const SequencerStateSchema = z
  .strictObject({
    v: z.literal(STATE_VERSION).optional(),
    bpm: num(MIN_BPM, MAX_BPM).default(120),
    swing: num(0, MAX_SWING).default(0),
    running: z.boolean().default(false),
    tracks: z.array(TrackSchema).max(MAX_TRACKS).default([]),
    position: z.strictObject({ step: z.number().int().min(0).max(2 ** 52), anchorFrame: frame, anchorStep: z.number().int().min(0).max(2 ** 52) }).optional(),
    pendingOffs: z.array(z.tuple([z.number().int().min(0).max(65535), frame])).max(1024).optional(),
    /** A pattern load waiting for the next bar (runtime: hot reload and session snapshots only). */
    staged: z.strictObject({ bpm: num(MIN_BPM, MAX_BPM), swing: num(0, MAX_SWING), tracks: z.array(TrackSchema).max(MAX_TRACKS) }).optional(),
    applyAt: z.enum(['bar', 'now']).optional(),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.tracks.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tracks', i, 'name'], message: `track "${t.name}" appears twice` });
      seen.add(t.name);
    });
  });

export type SequencerState = z.output<typeof SequencerStateSchema>;

/** A validated state, or an Error that names the field and the reason. */
export function parseSequencerState(raw: unknown): SequencerState {
  const parsed = SequencerStateSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`sequencer state refused: ${formatZodIssues(parsed.error, '', raw).join('; ')}`);
  return parsed.data;
}

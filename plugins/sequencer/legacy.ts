/**
 * What the sequencer reads of Music Chronus slot files (plugin-sdk/legacy.ts): the old top-level
 * `sequencer` section — tempo, swing, transport and tracks by name — becomes its state.
 */
import { z, type LegacySlot } from 'plugin-sdk';
import { MAX_BPM, MAX_SWING, MAX_TRACKS, MIN_BPM, STATE_VERSION } from './state.ts';

/** A number an old file may hold, bounded as the slot format bounds parameters. */
const n = z.number().min(-1e9).max(1e9).optional();

const trackName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/, { error: 'must be a track name: 1–32 letters, digits, "_", "-" or "."' });
const track = z.strictObject({
  name: z.string().max(64).optional(),
  voice_id: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, { error: 'must be a module id such as "voice1"' }),
  pattern: z.string().min(1).max(4096),
  notes: z.array(z.number().min(1).max(24000)).max(1024).optional(),
  base_freq: n,
  base_amp: n,
  filter_freq: n,
  accent_boost: n,
  reverb_send: n,
  delay_send: n,
  gate_frac: n,
  note_index: z.number().int().min(0).max(1_000_000).optional(),
});

const OldSequencer = z.strictObject({
  bpm: z.number().min(MIN_BPM).max(MAX_BPM).optional(),
  swing: z.number().min(0).max(MAX_SWING).optional(),
  running: z.boolean().optional(),
  global_step: z.number().int().min(0).max(2 ** 52).optional(),
  tracks: z
    .record(trackName, track)
    .refine((t) => Object.keys(t).length <= MAX_TRACKS, { error: `must have at most ${MAX_TRACKS} tracks` })
    .optional(),
});

export const MUSIC_CHRONUS_SEQUENCER: LegacySlot = {
  section: {
    key: 'sequencer',
    schema: OldSequencer,
    toState: (s: z.output<typeof OldSequencer>) => ({
      v: STATE_VERSION,
      ...(s.bpm !== undefined ? { bpm: s.bpm } : {}),
      ...(s.swing !== undefined ? { swing: s.swing } : {}),
      ...(s.running !== undefined ? { running: s.running } : {}),
      tracks: Object.entries(s.tracks ?? {}).map(([name, t]) => {
        const { name: _n, voice_id, ...rest } = t;
        return { name, voice: voice_id, ...rest };
      }),
    }),
  },
};

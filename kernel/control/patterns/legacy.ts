/**
 * Music Chronus slot files (the Python engine's `patterns/slots/slot_NNN.json`, its schema_version
 * "1.0") migrated to the current slot document (control thread).
 *
 * Their shape: `{ chronus_version, schema_version: "1.0", timestamp, sequencer: { bpm, swing, running,
 * global_step, tracks: { <name>: { voice_id, pattern, notes, base_freq, …, note_index } } },
 * modules: { voiceN: { freq, amp, filter_freq, filter_q, reverb_send, delay_send, adsr: {…},
 * waveform, slide_time }, acid1, dist1, reverb1, delay1, lfo1, lfo2 } }`. Known modules are checked
 * strictly (an unknown key is refused); unknown modules are skipped with a notice. Old names map to
 * parameter names (`filter_freq` → `filter/freq`, `waveform` → `osc/type`, `adsr.attack` →
 * `adsr/attack`, …) and the sequencer becomes the `sequencer` plugin's state.
 */
import { z } from 'zod';
import { formatZodIssues } from '../../base/errors.ts';
import { MAX_PARAM_MAGNITUDE, MAX_SLOT, MIN_SLOT, SCHEMA_VERSION, SLOT_FORMAT, moduleKey, refuse } from './slot-common.ts';

/** The plugin whose state the old `sequencer` section becomes. */
export const SEQUENCER_PLUGIN_ID = 'sequencer';
export const LEGACY_SCHEMA_VERSION = '1.0';

const n = z.number().min(-MAX_PARAM_MAGNITUDE).max(MAX_PARAM_MAGNITUDE).optional();
const label = z.string().max(64).optional();

const voice = z.strictObject({
  voice_id: label,
  freq: n,
  amp: n,
  filter_freq: n,
  filter_q: n,
  reverb_send: n,
  delay_send: n,
  adsr: z.strictObject({ attack: n, decay: n, sustain: n, release: n }).optional(),
  waveform: n,
  slide_time: n,
});
const dist = z.strictObject({ module_id: label, drive: n, mix: n, tone: n });
const reverb = z.strictObject({ module_id: label, mix: n, room: n, damp: n });
const delay = z.strictObject({ module_id: label, time: n, feedback: n, mix: n, lowcut: n, highcut: n });
const lfo = z.strictObject({ module_id: label, rate: n, depth: n, shape: n, offset: n });
const acid = z.strictObject({
  voice_id: label,
  cutoff: n,
  res: n,
  env_amount: n,
  decay: n,
  drive: n,
  mix: n,
  vol_comp: n,
  accent: n,
  cutoff_offset: n,
  res_accent_boost: n,
  accent_decay: n,
  accent_disabled: z.boolean().optional(),
});

/** Old key → parameter name, per kind of module. */
const VOICE_NAMES: Record<string, string> = {
  freq: 'freq',
  amp: 'amp',
  filter_freq: 'filter/freq',
  filter_q: 'filter/q',
  reverb_send: 'send/reverb',
  delay_send: 'send/delay',
  waveform: 'osc/type',
  slide_time: 'slide_time',
};
const SKIP = new Set(['voice_id', 'module_id', 'accent_disabled']);

function moduleSchema(id: string): z.ZodType | undefined {
  if (/^voice\d{1,2}$/.test(id)) return voice;
  if (/^dist\d{1,2}$/.test(id)) return dist;
  if (/^reverb\d{1,2}$/.test(id)) return reverb;
  if (/^delay\d{1,2}$/.test(id)) return delay;
  if (/^lfo\d{1,2}$/.test(id)) return lfo;
  if (/^acid\d{1,2}$/.test(id)) return acid;
  return undefined;
}

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

const LegacySchema = z.strictObject({
  chronus_version: z.string().max(32),
  schema_version: z.literal(LEGACY_SCHEMA_VERSION, { error: `must be "${LEGACY_SCHEMA_VERSION}" (the only Music Chronus version there is)` }),
  timestamp: z.number().min(0).max(1e12).optional(),
  sequencer: z
    .strictObject({
      bpm: z.number().min(30).max(300).optional(),
      swing: z.number().min(0).max(0.6).optional(),
      running: z.boolean().optional(),
      global_step: z.number().int().min(0).max(2 ** 52).optional(),
      tracks: z
        .record(trackName, track)
        .refine((t) => Object.keys(t).length <= 64, { error: 'must have at most 64 tracks' })
        .optional(),
    })
    .optional(),
  modules: z
    .record(moduleKey, z.unknown())
    .refine((m) => Object.keys(m).length <= 256, { error: 'must have at most 256 modules' })
    .superRefine((modules, ctx) => {
      for (const [id, value] of Object.entries(modules)) {
        const schema = moduleSchema(id);
        if (!schema) continue;
        const r = schema.safeParse(value);
        if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [id, ...issue.path] } as never);
      }
    }),
});

type Legacy = z.infer<typeof LegacySchema>;

/** Migrate a Music Chronus slot (already JSON-parsed) to the current document shape; refuses a bad one. */
export function migrateMusicChronus(json: unknown, fileLabel: string): { doc: unknown; notices: string[] } {
  const parsed = LegacySchema.safeParse(json);
  if (!parsed.success) throw refuse(fileLabel, formatZodIssues(parsed.error, fileLabel, json), `${fileLabel} (a Music Chronus slot) is refused:`);
  const old: Legacy = parsed.data;
  const notices: string[] = [];
  const params: Record<string, Record<string, number>> = {};

  for (const [id, value] of Object.entries(old.modules)) {
    if (!moduleSchema(id)) {
      notices.push(`module "${id}" is unknown to the Music Chronus migration; skipped`);
      continue;
    }
    const out: Record<string, number> = {};
    const isVoice = id.startsWith('voice');
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (SKIP.has(key) || v === undefined) continue;
      if (key === 'adsr') {
        for (const [stage, s] of Object.entries(v as Record<string, number | undefined>)) if (s !== undefined) out[`adsr/${stage}`] = s;
        continue;
      }
      out[isVoice ? VOICE_NAMES[key] : key] = v as number;
    }
    params[id] = out;
  }

  const plugins: Record<string, unknown> = {};
  if (old.sequencer) {
    const s = old.sequencer;
    plugins[SEQUENCER_PLUGIN_ID] = {
      v: 1,
      ...(s.bpm !== undefined ? { bpm: s.bpm } : {}),
      ...(s.swing !== undefined ? { swing: s.swing } : {}),
      ...(s.running !== undefined ? { running: s.running } : {}),
      tracks: Object.entries(s.tracks ?? {}).map(([name, t]) => {
        const { name: _n, voice_id, ...rest } = t;
        return { name, voice: voice_id, ...rest };
      }),
    };
  }
  const slot = /slot_(\d{3})\.json$/.exec(fileLabel);
  const slotNumber = slot ? Number(slot[1]) : MIN_SLOT;
  return {
    doc: {
      format: SLOT_FORMAT,
      schema_version: SCHEMA_VERSION,
      chronus_version: `music-chronus ${old.chronus_version}`.slice(0, 32),
      saved_at: old.timestamp !== undefined ? new Date(old.timestamp * 1000).toISOString() : '',
      slot: slotNumber >= MIN_SLOT && slotNumber <= MAX_SLOT ? slotNumber : MIN_SLOT,
      params,
      plugins,
    },
    notices,
  };
}

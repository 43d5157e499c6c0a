/**
 * The recorder's config section `plugins.recorder` (control half), validated with zod. The same
 * section reaches the audio half as `ctx.config` (read there by `audioSettings`, protocol.ts); the
 * control half takes the rest. It may change while the engine runs (config/local.json): each
 * recording takes the section as it is when it starts.
 */
import { z, type WavSampleFormat } from 'plugin-sdk';

export const RecorderConfigSchema = z.looseObject({
  enabled: z.boolean().optional(),
  /** File format unless /engine/record/start names one. */
  format: z.enum(['int16', 'int24', 'float32']).default('int24'),
  /** What is recorded: what is heard, the main bus before reverb and delay, or one file per voice plus master. */
  tap: z.enum(['master', 'pre-fx', 'stems']).default('master'),
  /** Linear fade-in at start and fade-out after stop, in ms (0: a sample-exact copy). */
  fadeMs: z.number().min(0).max(1000).default(0),
  /** Ring between the audio thread and the writer, in seconds of audio. */
  bufferSeconds: z.number().min(0.01).max(60).default(2),
  /** The data size (bytes) past which a file becomes RF64; default 4 GiB − 1 MiB. Lower it only for tests. */
  rf64ThresholdBytes: z.number().int().min(0).optional(),
  /** How often the WAV header is brought up to date and fsynced (a killed engine loses at most this much). */
  syncIntervalMs: z.number().int().min(20).max(1000).default(500),
  /** How often the writer drains the ring. */
  drainIntervalMs: z.number().int().min(5).max(200).default(25),
  /** Stem count for `tap: "stems"` (default the engine's voice count, `ctx.numVoices`). */
  voices: z.number().int().min(1).max(128).optional(),
});

export type RecorderConfig = z.infer<typeof RecorderConfigSchema>;

export interface RecorderSettings {
  readonly config: RecorderConfig;
  /** Why the section was refused (recording is refused with this message), or null. */
  readonly problem: string | null;
}

/** The section validated: its settings (defaults for a refused one) and what is wrong with it. */
export function readSettings(section: Readonly<Record<string, unknown>>): RecorderSettings {
  const parsed = RecorderConfigSchema.safeParse(section);
  if (parsed.success) return { config: parsed.data, problem: null };
  const problem = parsed.error.issues
    .map((i) => `plugins.recorder${i.path.length > 0 ? `.${i.path.join('.')}` : ''}: ${i.message} (found ${JSON.stringify(valueAt(section, i.path))?.slice(0, 80) ?? 'nothing'})`)
    .join('; ');
  return { config: RecorderConfigSchema.parse({}), problem };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** An OSC format argument: `int16`/`16`, `int24`/`24`, `float32`/`float`/`32`. Undefined when not one of those. */
export function parseFormat(value: unknown): WavSampleFormat | undefined {
  const v = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (v === 'int16' || v === '16') return 'int16';
  if (v === 'int24' || v === '24') return 'int24';
  if (v === 'float32' || v === 'float' || v === '32' || v === 'f32') return 'float32';
  return undefined;
}

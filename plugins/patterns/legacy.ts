/**
 * Music Chronus slot files (the Python engine's `patterns/slots/slot_NNN.json`, its schema_version
 * "1.0") migrated to the current slot document (control thread), with what the loaded plugins read
 * of them (`legacy` in a plugin's definition, plugin-sdk/legacy.ts): this plugin knows the old file's
 * envelope — `{ chronus_version, schema_version: "1.0", timestamp, modules: { <id>: { … } } }` — and
 * nothing of its modules or sections.
 *
 * A module section a loaded plugin claims (`voice{n}` → voices) is checked strictly against the
 * fields it declares (an unknown one refuses the slot, naming it) and becomes that module's
 * parameters (`filter_freq` → `filter/freq`, `adsr.attack` → `adsr/attack`, labels dropped); a
 * top-level section it claims (`sequencer`) is checked by its schema and becomes its state. What no
 * loaded plugin claims is skipped with a notice.
 */
import { formatZodIssues, z, type LegacyField, type LegacyReader } from 'plugin-sdk';
import { MAX_PARAM_MAGNITUDE, MAX_SLOT, MIN_SLOT, SCHEMA_VERSION, SLOT_FORMAT, moduleKey, refuse } from './slot-common.ts';

export const LEGACY_SCHEMA_VERSION = '1.0';

const ENVELOPE = ['chronus_version', 'schema_version', 'timestamp', 'modules'];
const number = z.number().min(-MAX_PARAM_MAGNITUDE).max(MAX_PARAM_MAGNITUDE).optional();

function fieldSchema(field: LegacyField): z.ZodType {
  if (typeof field === 'string') return number;
  if ('label' in field) return field.label === 'flag' ? z.boolean().optional() : z.string().max(64).optional();
  return z.strictObject(Object.fromEntries(Object.keys(field.group).map((k) => [k, number]))).optional();
}

/** The old module ids a reader claims, as a regular expression (`voice{n}` → /^voice\d{1,2}$/). */
function idPattern(pattern: string): RegExp {
  const [head, tail = ''] = pattern.split('{n}').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${head}\\d{1,2}${tail}$`);
}

interface ModuleReader {
  test: RegExp;
  fields: Readonly<Record<string, LegacyField>>;
  schema: z.ZodType;
}

function moduleReaders(readers: readonly LegacyReader[]): ModuleReader[] {
  return readers.flatMap((r) =>
    r.modules ? [{ test: idPattern(r.modules.pattern), fields: r.modules.fields, schema: z.strictObject(Object.fromEntries(Object.entries(r.modules.fields).map(([k, f]) => [k, fieldSchema(f)]))) }] : [],
  );
}

/** The old slot's schema: the envelope, the claimed sections, and the claimed modules checked by their fields. */
function legacySchema(modules: readonly ModuleReader[], sections: readonly LegacyReader[]): z.ZodType {
  const claimed = (id: string) => modules.find((m) => m.test.test(id));
  return z.looseObject({
    chronus_version: z.string().max(32),
    schema_version: z.literal(LEGACY_SCHEMA_VERSION, { error: `must be "${LEGACY_SCHEMA_VERSION}" (the only Music Chronus version there is)` }),
    timestamp: z.number().min(0).max(1e12).optional(),
    ...Object.fromEntries(sections.map((r) => [r.section!.key, r.section!.schema.optional()])),
    modules: z
      .record(moduleKey, z.unknown())
      .refine((m) => Object.keys(m).length <= 256, { error: 'must have at most 256 modules' })
      .superRefine((all, ctx) => {
        for (const [id, value] of Object.entries(all)) {
          const r = claimed(id)?.schema.safeParse(value);
          if (r && !r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [id, ...issue.path] } as never);
        }
      }),
  });
}

/** Migrate a Music Chronus slot (already JSON-parsed) to the current document shape with what `readers` read; refuses a bad one. */
export function migrateMusicChronus(json: unknown, fileLabel: string, readers: readonly LegacyReader[]): { doc: unknown; notices: string[] } {
  const modules = moduleReaders(readers);
  const sections = readers.filter((r) => r.section !== undefined);
  const parsed = legacySchema(modules, sections).safeParse(json);
  if (!parsed.success) throw refuse(fileLabel, formatZodIssues(parsed.error, fileLabel, json), `${fileLabel} (a Music Chronus slot) is refused:`);
  const old = parsed.data as Record<string, unknown> & { chronus_version: string; timestamp?: number; modules: Record<string, unknown> };
  const notices: string[] = [];
  const params: Record<string, Record<string, number>> = {};

  for (const [id, value] of Object.entries(old.modules)) {
    const reader = modules.find((m) => m.test.test(id));
    if (!reader) {
      notices.push(`module "${id}" is not loaded (no loaded plugin reads the Music Chronus "${id}"); skipped`);
      continue;
    }
    const out: Record<string, number> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const field = reader.fields[key];
      if (v === undefined || (typeof field !== 'string' && 'label' in field)) continue;
      if (typeof field === 'string') out[field] = v as number;
      else for (const [sub, s] of Object.entries(v as Record<string, number | undefined>)) if (s !== undefined) out[field.group[sub]] = s;
    }
    params[id] = out;
  }

  const plugins: Record<string, unknown> = {};
  for (const r of sections) {
    const { key, toState } = r.section!;
    if (old[key] === undefined) continue;
    try {
      plugins[r.pluginId] = toState(old[key] as never);
    } catch (e) {
      throw refuse(fileLabel, [`${fileLabel}: ${key}: plugin "${r.pluginId}" could not read it (${(e as Error)?.message ?? String(e)})`], `${fileLabel} (a Music Chronus slot) is refused:`);
    }
  }
  const known = new Set([...ENVELOPE, ...sections.map((r) => r.section!.key)]);
  for (const key of Object.keys(old)) if (!known.has(key)) notices.push(`"${key}" is not read by any loaded plugin; skipped`);

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

/**
 * The pattern slot file (`patterns/slots/slot_NNN.json`), validated with zod (control thread).
 *
 * ```json
 * { "format": "chronus-pattern", "schema_version": 2, "chronus_version": "0.1.0",
 *   "saved_at": "2025-09-09T15:30:12.123Z", "slot": 3, "name": "my_groove",
 *   "params":  { "voice1": { "freq": 55, "osc/type": 1, "slide_time": 0.05, … }, "dist1": { … } },
 *   "plugins": { "sequencer": { "v": 1, "bpm": 128, "tracks": [ … ] }, "lfo": { … } } }
 * ```
 * `params` holds every parameter's base value by module id and parameter name; `plugins` holds each
 * plugin's `getState()` (the sequencer's tracks, LFO targets, …), opaque to this plugin except for
 * size and sanity limits — each plugin validates its own state in `setState`. `name` is optional (given
 * by `/pattern/save <slot> <name>`, shown by `/pattern/list`).
 *
 * Version 1 is the Music Chronus format (see legacy.ts), migrated on load. Anything else — a newer
 * version, another program's JSON, unknown keys, wrong types, numbers beyond ±1e9 (parameters) or
 * ±1e15 (states), path-like names — is refused with one line per problem naming the field and the reason.
 */
import { checkJson, CodedError, formatZodIssues, preview, z, type LegacyReader } from 'plugin-sdk';
import { migrateMusicChronus } from './legacy.ts';
import { MAX_SLOT, MIN_SLOT, PATTERN_INVALID, SCHEMA_VERSION, SLOT_FORMAT, moduleKey, paramKey, paramValue, pluginKey, refuse, slotName } from './slot-common.ts';

export { MAX_SLOT, MAX_SLOT_BYTES, MIN_SLOT, SCHEMA_VERSION, SLOT_FORMAT } from './slot-common.ts';

const pluginState = z.unknown().superRefine((v, ctx) => {
  const problem = checkJson(v);
  if (problem) ctx.addIssue({ code: 'custom', path: problem[0], message: problem[1] });
});

const bounded = <T extends z.ZodType>(record: T, max: number, what: string) =>
  record.refine((r) => Object.keys(r as object).length <= max, { error: `must have at most ${max} ${what}` });

export const SlotDocumentSchema = z.strictObject({
  format: z.literal(SLOT_FORMAT),
  schema_version: z.literal(SCHEMA_VERSION),
  chronus_version: z.string().max(32),
  saved_at: z.string().max(64),
  slot: z.number().int().min(MIN_SLOT).max(MAX_SLOT),
  name: slotName.optional(),
  params: bounded(z.record(moduleKey, bounded(z.record(paramKey, paramValue), 1024, 'parameters')), 1024, 'modules'),
  plugins: bounded(z.record(pluginKey, pluginState), 256, 'plugins'),
});

export type SlotDocument = z.infer<typeof SlotDocumentSchema>;

export interface ParsedSlot {
  doc: SlotDocument;
  /** Things skipped or changed on the way (migration notes). */
  notices: string[];
  /** The format it was migrated from, if any (e.g. "music-chronus 1.0"). */
  migratedFrom?: string;
}

/** Throws PATTERN_INVALID (one line per problem) unless `doc` is a valid current-format document: what is written always loads. */
export function checkDocument(doc: unknown, label: string): SlotDocument {
  const parsed = SlotDocumentSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  throw new CodedError(PATTERN_INVALID, `${label} was not saved: the document does not fit the slot format:`, {
    details: formatZodIssues(parsed.error, label, doc),
    hint: 'A plugin returned a state that is not plain, bounded JSON (see JSON_LIMITS in plugin-sdk/state-json.ts); fix its getState().',
  });
}

/**
 * Validate a slot file's text (already read) into the current document shape, migrating older
 * formats with what the loaded plugins read of them (`legacy`; none: an old slot's modules are skipped).
 */
export function parseSlotText(text: string, label: string, legacy: readonly LegacyReader[] = []): ParsedSlot {
  if (text.trim().length === 0) throw refuse(label, [`${label}: the file is empty`]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw refuse(label, [`${label}: not valid JSON (${(error as Error).message})`]);
  }
  return parseSlotJson(json, label, legacy);
}

export function parseSlotJson(json: unknown, label: string, legacy: readonly LegacyReader[] = []): ParsedSlot {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw refuse(label, [`${label}: expected a JSON object at the top level (found ${preview(json)})`]);
  }
  const o = json as Record<string, unknown>;
  if (Object.hasOwn(o, 'format')) {
    if (o.format !== SLOT_FORMAT) throw refuse(label, [`${label}: format: must be "${SLOT_FORMAT}" (found ${preview(o.format)})`], `${label} is not a Chronus pattern:`);
    const v = o.schema_version;
    if (typeof v === 'number' && Number.isInteger(v) && v > SCHEMA_VERSION) {
      throw refuse(label, [`${label}: schema_version: written by a newer Chronus (version ${v}); this engine reads versions up to ${SCHEMA_VERSION}`]);
    }
    if (v !== SCHEMA_VERSION) throw refuse(label, [`${label}: schema_version: must be ${SCHEMA_VERSION} (found ${preview(v)})`]);
    const parsed = SlotDocumentSchema.safeParse(json);
    if (!parsed.success) throw refuse(label, formatZodIssues(parsed.error, label, json));
    return { doc: parsed.data, notices: [] };
  }
  if (Object.hasOwn(o, 'chronus_version') || (Object.hasOwn(o, 'modules') && Object.hasOwn(o, 'schema_version'))) {
    const migrated = migrateMusicChronus(json, label, legacy);
    const parsed = SlotDocumentSchema.safeParse(migrated.doc);
    if (!parsed.success) throw refuse(label, formatZodIssues(parsed.error, `${label} (migrated)`, migrated.doc));
    return { doc: parsed.data, notices: migrated.notices, migratedFrom: 'music-chronus 1.0' };
  }
  throw refuse(
    label,
    [`${label}: neither a Chronus pattern ("format": "${SLOT_FORMAT}") nor a Music Chronus slot (chronus_version, schema_version, modules); found keys ${preview(Object.keys(o))}`],
    `${label} is not a pattern file:`,
  );
}

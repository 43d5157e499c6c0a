/**
 * The `patterns` plugin's control half: the `/pattern/...` routes (OSC.md, "Patterns"): save, load and
 * list pattern slots. It is only a control half: it reads and sets the engine through `ctx.engine`.
 *
 * - `/pattern/save <slot 1–128> [name]` → `/pattern/saved <slot> <file> [name]` (the name is kept in the
 *   slot file and shown by `/pattern/list`; old clients send one, the old engine ignored it)
 * - `/pattern/load <slot> [immediate]` → `/pattern/loaded <slot> <json>` (json: file, when the
 *   sequencer part lands — "bar" or "now" —, counts and notices about skipped modules)
 * - `/pattern/list` → `/pattern/list <json [{slot, bytes, modified, name?}, …]>`
 * Slots go out as OSC integers.
 * A refused file answers `/error <address> PATTERN_INVALID <message>` naming the field and the reason,
 * and the engine keeps its state. The plugin's folder (`"folder": "patterns"`, config `paths.patterns`)
 * holds slots/ and backups/, made when it starts (pattern-store.ts).
 */
import { defineControl, oscInt, z, type ControlInstance } from 'plugin-sdk';
import { PatternStore, type SlotInfo } from './pattern-store.ts';
import { Patterns } from './patterns.ts';
import { MAX_NAME_CHARS, MAX_SLOT, MIN_SLOT, slotName } from './slot-common.ts';

const SLOT_ERROR = `expected a slot number ${MIN_SLOT}–${MAX_SLOT}`;
const slotArg = z
  .union([z.number(), z.string().regex(/^\s*\d{1,3}\s*$/, { error: SLOT_ERROR }).transform(Number)], { error: SLOT_ERROR })
  .pipe(z.number().int({ error: SLOT_ERROR }).min(MIN_SLOT, { error: SLOT_ERROR }).max(MAX_SLOT, { error: SLOT_ERROR }));

/** A slot name: text (a number is taken as its text), trimmed; empty means none. */
const nameArg = z
  .union([z.string(), z.number().transform(String)], { error: `expected a pattern name (text, at most ${MAX_NAME_CHARS} characters)` })
  .transform((s) => s.trim())
  .pipe(slotName)
  .transform((s) => (s === '' ? undefined : s));

const IMMEDIATE = ['immediate', 'now', 'true', '1'];
const AT_BAR = ['bar', 'false', '0'];
const immediateArg = z.union(
  [
    z.boolean(),
    z.number().transform((n) => n !== 0),
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum([...IMMEDIATE, ...AT_BAR] as [string, ...string[]]))
      .transform((s) => IMMEDIATE.includes(s)),
  ],
  { error: 'expected "immediate" (or 1/true), or nothing to land on the next bar' },
);

/** What `create` returns: the hooks the kernel calls, and the pattern service (tests reach it). */
export interface PatternsControl extends ControlInstance {
  readonly patterns: Patterns;
}

/** `/pattern/list` on the engine's console: `Slot   6: 2026-01-02 13:45  my_groove`, or that there are none. */
export function showPatternList(value: unknown): string[] {
  const slots = value as readonly SlotInfo[];
  const lines = ['[PATTERN] Saved patterns:'];
  for (const s of slots) {
    const when = s.modified.slice(0, 16).replace('T', ' ');
    lines.push(`  Slot ${String(s.slot).padStart(3)}: ${when}${s.name ? `  ${s.name}` : ''}`);
  }
  if (slots.length === 0) lines.push('  (no saved patterns)');
  return lines;
}

export default defineControl({
  async create(ctx): Promise<PatternsControl> {
    const store = new PatternStore(ctx.files, ctx.files.root.split(/[\\/]/).filter(Boolean).pop() ?? 'patterns');
    const patterns = new Patterns(ctx.engine, store);
    // Awaited: once the plugin is loaded its folders exist.
    await store.ready.catch((e: Error) => ctx.log.error(`patterns folder ${ctx.files.root}: ${e.message}`));

    ctx.route(
      '/pattern/save',
      {
        args: z.tuple([slotArg, nameArg.optional()]),
        usage: ['slot_number', '[name]'],
        description: `save every parameter and plugin state (sequencer, LFO targets) to slot <${MIN_SLOT}–${MAX_SLOT}> [name]; reply /pattern/saved <slot> <file> [name]`,
      },
      async ([slot, name], reply) => {
        const r = await patterns.save(slot, name);
        if (r.name === undefined) reply.reply('/pattern/saved', oscInt(r.slot), r.file);
        else reply.reply('/pattern/saved', oscInt(r.slot), r.file, r.name);
      },
    );

    ctx.route(
      '/pattern/load',
      {
        args: z.tuple([slotArg, immediateArg.optional()]),
        usage: ['slot_number', '[immediate]'],
        description: 'load slot <n>; the sequencer part lands on the next bar, or at once with "immediate"; reply /pattern/loaded <slot> <json>',
      },
      async ([slot, immediate], reply) => {
        const r = await patterns.load(slot, immediate ?? false);
        reply.reply('/pattern/loaded', oscInt(r.slot), JSON.stringify(r));
      },
    );

    ctx.route(
      '/pattern/list',
      { args: z.tuple([]), usage: [], description: 'reply /pattern/list <json>: the used slots with size, time and name', show: showPatternList },
      async (_args, reply) => {
        reply.replyJson('/pattern/list', await patterns.list());
      },
    );
    return { patterns };
  },
});

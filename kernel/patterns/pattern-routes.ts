/**
 * The `/pattern/...` routes (OSC.md, "Patterns"): save, load and list pattern slots.
 *
 * - `/pattern/save <slot 1–128> [name]` → `/pattern/saved <slot> <file> [name]` (the name is kept in the
 *   slot file and shown by `/pattern/list`; old clients send one, the old engine ignored it)
 * - `/pattern/load <slot> [immediate]` → `/pattern/loaded <slot> <json>` (json: file, when the
 *   sequencer part lands — "bar" or "now" —, counts and notices about skipped modules)
 * - `/pattern/list` → `/pattern/list <json [{slot, bytes, modified, name?}, …]>`
 * Slots go out as OSC integers.
 * A refused file answers `/error <address> PATTERN_INVALID <message>` naming the field and the reason,
 * and the engine keeps its state. The patterns folder (slots/, backups/) is created at start.
 */
import { z } from 'zod';
import type { EngineServices } from '../engine/engine-services.ts';
import { EnginePatterns, type PatternsHost } from './engine-patterns.ts';
import { MAX_NAME_CHARS, MAX_SLOT, MIN_SLOT, slotName } from './slot-common.ts';
import { oscInt } from '../osc/osc-args.ts';

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

const patternsByEngine = new WeakMap<object, EnginePatterns>();

/** The engine's pattern service (tests and benchmarks). */
export function enginePatterns(engine: object): EnginePatterns | undefined {
  return patternsByEngine.get(engine);
}

export function mapPatternRoutes(engine: PatternsHost & Pick<EngineServices, 'router' | 'log'>): EnginePatterns {
  const { router } = engine;
  const patterns = new EnginePatterns(engine);
  patternsByEngine.set(engine, patterns);
  patterns.store.ready.catch((e: Error) => engine.log.error(`patterns folder ${engine.config.paths.patterns}: ${e.message}`));

  router.mapRoute(
    '/pattern/save',
    async ([slot, name], ctx) => {
      const r = await patterns.save(slot, name);
      if (r.name === undefined) ctx.reply('/pattern/saved', oscInt(r.slot), r.file);
      else ctx.reply('/pattern/saved', oscInt(r.slot), r.file, r.name);
    },
    {
      args: z.tuple([slotArg, nameArg.optional()]),
      usage: ['slot_number', '[name]'],
      description: `save every parameter and plugin state (sequencer, LFO targets) to slot <${MIN_SLOT}–${MAX_SLOT}> [name]; reply /pattern/saved <slot> <file> [name]`,
    },
  );

  router.mapRoute(
    '/pattern/load',
    async ([slot, immediate], ctx) => {
      const r = await patterns.load(slot, immediate ?? false);
      ctx.reply('/pattern/loaded', oscInt(r.slot), JSON.stringify(r));
    },
    {
      args: z.tuple([slotArg, immediateArg.optional()]),
      usage: ['slot_number', '[immediate]'],
      description: 'load slot <n>; the sequencer part lands on the next bar, or at once with "immediate"; reply /pattern/loaded <slot> <json>',
    },
  );

  router.mapRoute(
    '/pattern/list',
    async (_args, ctx) => {
      ctx.replyJson('/pattern/list', await patterns.list());
    },
    { args: z.tuple([]), usage: [], description: 'reply /pattern/list <json>: the used slots with size, time and name' },
  );
  return patterns;
}

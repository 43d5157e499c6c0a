/**
 * The `/pattern/...` routes (OSC.md, "Patterns"): save, load and list pattern slots.
 *
 * - `/pattern/save <slot 1–128>` → `/pattern/saved <slot> <file>`
 * - `/pattern/load <slot> [immediate]` → `/pattern/loaded <slot> <json>` (json: file, when the
 *   sequencer part lands — "bar" or "now" —, counts and notices about skipped modules)
 * - `/pattern/list` → `/pattern/list <json [{slot, bytes, modified}, …]>`
 * A refused file answers `/error <address> PATTERN_INVALID <message>` naming the field and the reason,
 * and the engine keeps its state. The patterns folder (slots/, backups/) is created at start.
 */
import { z } from 'zod';
import type { Engine } from './engine.ts';
import { EnginePatterns } from './patterns/engine-patterns.ts';
import { MAX_SLOT, MIN_SLOT } from './patterns/slot-common.ts';

const SLOT_ERROR = `expected a slot number ${MIN_SLOT}–${MAX_SLOT}`;
const slotArg = z
  .union([z.number(), z.string().regex(/^\s*\d{1,3}\s*$/, { error: SLOT_ERROR }).transform(Number)], { error: SLOT_ERROR })
  .pipe(z.number().int({ error: SLOT_ERROR }).min(MIN_SLOT, { error: SLOT_ERROR }).max(MAX_SLOT, { error: SLOT_ERROR }));

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

const patternsByEngine = new WeakMap<Engine, EnginePatterns>();

/** The engine's pattern service (tests and benchmarks). */
export function enginePatterns(engine: Engine): EnginePatterns | undefined {
  return patternsByEngine.get(engine);
}

export function mapPatternRoutes(engine: Engine): EnginePatterns {
  const { router } = engine;
  const patterns = new EnginePatterns(engine);
  patternsByEngine.set(engine, patterns);
  patterns.store.ready.catch((e: Error) => engine.log.error(`patterns folder ${engine.config.paths.patterns}: ${e.message}`));

  router.mapRoute(
    '/pattern/save',
    async ([slot], ctx) => {
      const r = await patterns.save(slot);
      ctx.reply('/pattern/saved', r.slot, r.file);
    },
    { args: z.tuple([slotArg]), description: `save every parameter and plugin state (sequencer, LFO targets) to slot <${MIN_SLOT}–${MAX_SLOT}>; reply /pattern/saved <slot> <file>` },
  );

  router.mapRoute(
    '/pattern/load',
    async ([slot, immediate], ctx) => {
      const r = await patterns.load(slot, immediate ?? false);
      ctx.reply('/pattern/loaded', r.slot, JSON.stringify(r));
    },
    {
      args: z.tuple([slotArg, immediateArg.optional()]),
      description: 'load slot <n>; the sequencer part lands on the next bar, or at once with "immediate"; reply /pattern/loaded <slot> <json>',
    },
  );

  router.mapRoute(
    '/pattern/list',
    async (_args, ctx) => {
      ctx.replyJson('/pattern/list', await patterns.list());
    },
    { args: z.tuple([]), description: 'reply /pattern/list <json>: the used slots with size and time' },
  );
  return patterns;
}

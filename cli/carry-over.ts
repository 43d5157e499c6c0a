/**
 * What a supervised engine hands to the engine its supervisor starts after a failure
 * (cli/supervisor.ts): every parameter value and each plugin's 'save' state, what a pattern slot
 * holds. Written every CARRY_EVERY_MS, when it changed, atomically, to the file the supervisor names
 * in CHRONUS_CARRY; the next engine restores it once its plugins are in (controllers as a hot reload
 * would: a sequencer that was playing plays on). Without it a restart in the middle of a set would come back with the default patch.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../kernel/base/atomic-file.ts';
import { captureEngine, restoreEngine, type SnapshotSources } from '../kernel/engine/engine-snapshot.ts';
import type { OscRouter } from '../kernel/osc/osc-router.ts';

const CARRY_EVERY_MS = 1000;

const CarriedSchema = z.object({
  params: z.record(z.string(), z.record(z.string(), z.number())),
  plugins: z.record(z.string(), z.unknown()),
});

/**
 * Keeps `file` up to date with the engine; the returned function stops it. Values and states change
 * only through messages (OSC, a control half's `ctx.engine.send`) and plugin loads: once neither has
 * happened for a whole tick (what a message set off in the tick before has landed by then), the
 * audio thread is not asked for its plugins' states again. Call the returned function before the
 * engine stops.
 */
export function keepCarryOver(engine: SnapshotSources & { router: Pick<OscRouter, 'counters'> }, file: string, warn: (text: string) => void): () => void {
  let written = '';
  let busy = false;
  let warned = false;
  let seen = '';
  let quietTicks = 0;
  let stopped = false;
  const timer = setInterval(() => {
    const now = `${engine.router.counters.messages} ${[...engine.plugins.loaded.values()].map((p) => p.slotId).join(',')}`;
    quietTicks = now === seen ? quietTicks + 1 : 0;
    seen = now;
    if (busy || quietTicks > 1) return;
    busy = true;
    void captureEngine(engine)
      .then(async ({ snapshot }) => {
        const text = JSON.stringify(snapshot);
        if (text === written) return;
        await writeFileAtomic(file, text);
        written = text;
        warned = false;
      })
      .catch((e: Error) => {
        // A capture during an audio thread restart fails: the next tick tries again; a full disk is said once.
        // One under way as the engine stops fails as its audio thread goes: nothing to say then.
        seen = '';
        if (!warned && !stopped) warn(`carry-over for a restart not written: ${e.message}`);
        warned = true;
      })
      .finally(() => (busy = false));
  }, CARRY_EVERY_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Puts `file` back into a freshly started engine: a line saying what came back, or why nothing did. */
export async function restoreCarryOver(engine: SnapshotSources, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return 'no values to carry over (none had been written yet)';
  }
  let carried: z.infer<typeof CarriedSchema>;
  try {
    carried = CarriedSchema.parse(JSON.parse(text));
  } catch (e) {
    return `values not carried over: ${file} is not a carry-over file (${(e as Error).message.split('\n')[0]})`;
  }
  const outcome = await restoreEngine(engine, carried, { controllersAt: 'resume' });
  if (!outcome.ok) return `values not carried over: ${outcome.problems.join('; ')}`;
  const skipped = outcome.notices.length > 0 ? `; ${outcome.notices.join('; ')}` : '';
  return `carried over ${outcome.params} parameter values and the state of ${outcome.plugins.length} plugins${skipped}`;
}

/**
 * The sequencer plugin (role `controller`, module `seq1`): binds the `/seq/...` routes to the
 * step engine in sequencer.ts. It has no parameters of its own; its tracks, tempo and swing live in
 * its state (hot reload and pattern slots carry them).
 *
 * | hook        | thread / when                      | does                                                |
 * | ----------- | ---------------------------------- | --------------------------------------------------- |
 * | beginBlock  | block start                        | schedules the block's notes and gate-offs (only     |
 * |             |                                    | events due in this block: they never wait for room) |
 * | command     | between blocks (`/seq/...`)        | edits tracks, tempo, transport; `/engine/stop` stops |
 * | getState    | between blocks                     | state.ts `SequencerState` ('reload' adds position)  |
 * | stateSchema | control / audio, between blocks    | `SequencerStateSchema` (state.ts)                   |
 * | setState    | between blocks                     | refuses (throws) a state that fails the schema      |
 */
import { definePlugin, type StatePurpose } from 'plugin-sdk';
import type { AddArgs } from './routes.ts';
import { ROUTES } from './routes.ts';
import { MUSIC_CHRONUS_SEQUENCER } from './legacy.ts';
import { Sequencer } from './sequencer.ts';
import { SequencerStateSchema } from './state.ts';

export default definePlugin({
  params: {},
  routes: ROUTES,
  stateSchema: SequencerStateSchema,
  legacy: MUSIC_CHRONUS_SEQUENCER,
  create(ctx) {
    const seq = new Sequencer(ctx.sampleRate, ctx.events);
    return {
      beginBlock(blockStart: number, frames: number) {
        seq.beginBlock(blockStart, frames);
      },
      process() {},
      /** Between blocks: one of the routes above, or an engine-wide command. */
      command(name: string, args: unknown): unknown {
        seq.resolve();
        switch (name) {
          case '/seq/add': {
            const a = args as AddArgs;
            seq.add(a.track, a.voice, a.pattern, a.options, a.notes);
            return undefined;
          }
          case '/seq/remove':
            seq.remove((args as [string])[0]);
            return undefined;
          case '/seq/clear':
            seq.clear();
            return undefined;
          case '/seq/start':
            seq.start();
            return undefined;
          case '/seq/stop':
          case '/engine/stop':
            seq.stop();
            return undefined;
          case '/seq/bpm':
            seq.setBpm((args as [number])[0]);
            return undefined;
          case '/seq/swing':
            seq.setSwing((args as [number])[0]);
            return undefined;
          case '/seq/update/pattern': {
            const [track, pattern] = args as [string, string];
            seq.updatePattern(track, pattern);
            return undefined;
          }
          case '/seq/update/notes': {
            const a = args as { track: string; notes: number[] };
            seq.updateNotes(a.track, a.notes);
            return undefined;
          }
          case '/seq/status':
            return seq.status();
          default:
            return undefined;
        }
      },
      getState: (purpose?: StatePurpose) => seq.getState(purpose),
      setState: (state: unknown) => seq.setState(state),
    };
  },
});

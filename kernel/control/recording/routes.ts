/**
 * `/engine/record/start [filename] [format]`, `/engine/record/stop`, `/engine/record/status` (OSC.md,
 * "Recording"), answered by the control-side Recorder; and the engine-stop hook that ends a recording.
 * When the recorder plugin is disabled every route answers `/error` saying how to enable it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Engine } from '../engine.ts';
import { Recorder } from './recorder.ts';
import { oscInt64 } from '../osc-args.ts';

const recorders = new WeakMap<Engine, Recorder>();

/** The Recorder of `engine` (tests, benchmarks). */
export function recorderOf(engine: Engine): Recorder {
  const r = recorders.get(engine);
  if (!r) throw new Error('mapRecordRoutes(engine) was not called');
  return r;
}

const nameArg = z.union([z.string(), z.number()]);

export function mapRecordRoutes(engine: Engine): Recorder {
  const recorder = new Recorder(engine);
  recorders.set(engine, recorder);
  const section = engine.config.plugins.recorder;
  if (section && section.voices === undefined) {
    // The plugin sizes its stems ring in create(); it learns the voice count from its config section.
    section.voices = engine.config.engine.numVoices;
  }
  if (recorder.enabledInConfig) {
    try {
      const root = engine.config.paths.recordings;
      mkdirSync(path.join(root, 'sessions'), { recursive: true });
      mkdirSync(path.join(root, 'temp'), { recursive: true });
    } catch (e) {
      engine.log.error(`cannot create the recordings folders in ${engine.config.paths.recordings}: ${(e as Error).message}`);
    }
    if (recorder.configProblem) engine.log.error(`plugins.recorder: ${recorder.configProblem}`);
  }

  engine.router.mapRoute(
    '/engine/record/start',
    async ([name, format], ctx) => {
      const r = await recorder.start(name, format);
      ctx.reply('/engine/record/started', r.path);
    },
    {
      args: z.array(nameArg).max(2),
      usage: ['[filename]', '[format]'],
      description:
        'start recording [filename] [format: int16|int24|float32]; reply /engine/record/started <path> (recordings/session_YYYYMMDD_HHMMSS.wav by default; never overwrites)',
    },
  );

  engine.router.mapRoute(
    '/engine/record/stop',
    async (_args, ctx) => {
      const r = await recorder.stop();
      if (r.error) ctx.reply('/error', '/engine/record/stop', 'RECORD_WRITE_FAILED', r.error);
      ctx.reply('/engine/record/stopped', r.path, oscInt64(r.frames));
    },
    { args: z.tuple([]), usage: [], description: 'stop recording at the next block boundary; reply /engine/record/stopped <path> <frames>' },
  );

  engine.router.mapRoute(
    '/engine/record/status',
    (_args, ctx) => {
      if (!recorder.active) recorder.assertAvailable();
      ctx.replyJson('/engine/record/status', recorder.status());
    },
    { args: z.tuple([]), usage: [], description: 'reply /engine/record/status <json>: state, file, seconds, frames, dropped, format, tap' },
  );

  engine.onStop.push(async () => {
    const r = await recorder.stopIfRecording();
    if (r) engine.broadcast('/engine/record/stopped', [r.path, oscInt64(r.frames)]);
  });
  return recorder;
}

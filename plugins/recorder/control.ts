/**
 * The `recorder` plugin's control half (control thread): the routes `/engine/record/start
 * [filename] [format]`, `/engine/record/stop` and `/engine/record/status` (OSC.md, "Recording"), the
 * writer that drains the audio half's tap ring into WAV files in the plugin's folder (recorder.ts),
 * and the config section `plugins.recorder` (config.ts). It talks to its audio half only through the
 * SDK's channels: commands between blocks (CMD_START, CMD_STOP), the tap ring and its header words
 * (protocol.ts), and `ctx.audio.reload()` when the config asks for a ring the audio half can only
 * make in `create`.
 *
 * | hook          | when                                  | does                                                  |
 * | ------------- | ------------------------------------- | ----------------------------------------------------- |
 * | create        | after the audio half is live          | folders, routes, status `active: false`               |
 * | stop          | /engine/stop, shutdown                | ends a recording; tells every client it stopped       |
 * | getState      | hot reload, before this version goes  | hands its session over (timers stop here)             |
 * | setState      | hot reload, the new version           | ends a handed-over session as interrupted, clients told |
 * | configChanged | config/local.json changed             | reports a bad section (the next recording uses the new one) |
 * | dispose       | unloaded (folder removed, disabled)   | ends a recording, its files closed and valid          |
 *
 * Files: `ctx.files` is the recordings folder (manifest `"folder": "recordings"`, config
 * `paths.recordings`): `<name>.wav`, stems in `sessions/<name>/`, never overwriting.
 */
import { defineControl, oscInt64, z } from 'plugin-sdk';
import { readSettings } from './config.ts';
import { Recorder, type RecorderState } from './recorder.ts';

const nameArg = z.union([z.string(), z.number()]);

/** What `create` returns: the hooks the kernel calls, and the recorder itself (tests and benchmarks reach it). */
export interface RecorderControl {
  readonly recorder: Recorder;
}

export default defineControl({
  create(ctx) {
    const recorder = new Recorder(ctx);
    const { problem } = readSettings(ctx.config);
    if (problem) ctx.log.error(problem);
    recorder.ensureFolders().catch((e: { message?: string }) => ctx.log.error(`cannot create the recordings folders in ${ctx.files.root}: ${e.message ?? String(e)}`));
    ctx.setStatus({ active: false });

    ctx.route(
      '/engine/record/start',
      {
        args: z.array(nameArg).max(2),
        usage: ['[filename]', '[format]'],
        description:
          'start recording [filename] [format: int16|int24|float32]; reply /engine/record/started <path> (recordings/session_YYYYMMDD_HHMMSS.wav by default; never overwrites)',
      },
      async ([name, format], reply) => {
        const r = await recorder.start(name, format);
        reply.reply('/engine/record/started', r.path);
      },
    );

    ctx.route(
      '/engine/record/stop',
      { args: z.tuple([]), usage: [], description: 'stop recording at the next block boundary; reply /engine/record/stopped <path> <frames>' },
      async (_args, reply) => {
        const r = await recorder.stop();
        if (r.error) reply.reply('/error', '/engine/record/stop', 'RECORD_WRITE_FAILED', r.error);
        reply.reply('/engine/record/stopped', r.path, oscInt64(r.frames));
      },
    );

    ctx.route(
      '/engine/record/status',
      { args: z.tuple([]), usage: [], description: 'reply /engine/record/status <json>: state, file, seconds, frames, dropped, format, tap' },
      (_args, reply) => {
        if (!recorder.active) recorder.assertAvailable();
        reply.replyJson('/engine/record/status', recorder.status());
      },
    );

    let handedOver = false;
    return {
      recorder,
      async stop() {
        const r = await recorder.stopIfRecording();
        if (r) ctx.broadcast('/engine/record/stopped', r.path, oscInt64(r.frames));
      },
      getState(): RecorderState {
        handedOver = true;
        return recorder.handOver();
      },
      setState(state: unknown) {
        recorder.adopt(state as RecorderState);
      },
      configChanged(config) {
        const bad = readSettings(config).problem;
        if (bad) ctx.log.error(`${bad} (recordings are refused until it is fixed)`);
      },
      async dispose() {
        if (!handedOver) await recorder.retire();
      },
    };
  },
});

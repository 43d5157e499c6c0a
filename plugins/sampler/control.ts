/**
 * The `sampler` plugin's control half: reads the kit from the plugin's own folder
 * (`ctx.pluginFiles`, read only), publishes each drum's sample to the audio half, and watches
 * samples/ so an edited, added or removed WAV is picked up while the engine plays (the plugin's
 * code is not reloaded for it: only code files reload a plugin).
 *
 * | hook          | thread / when                    | does                                                  |
 * | ------------- | -------------------------------- | ----------------------------------------------------- |
 * | create        | control thread, after the audio  | loads every sample (resolves when they are published),|
 * |               | half is live                     | watches samples/, maps /sampler/kit and /reload       |
 * | watch event   | control thread, a file settled   | sync: what changed is read again (kit.ts)             |
 * | configChanged | control thread                   | new `maxSeconds`: every file is read again            |
 * | dispose       | replaced or unloaded             | publishes nothing more (the kernel closes the watch)  |
 *
 * No getState: a new version reads the folder again, which is the truth (samples published stay
 * with the audio half until the new ones replace them, so nothing goes silent meanwhile).
 *
 * Config (`plugins.sampler` in config/local.json): `maxSeconds` (default 10), the longest sample
 * taken; a longer file is refused.
 */
import { defineControl, z } from 'plugin-sdk';
import type { SampleLimits } from './kit-files.ts';
import { SAMPLES_DIR } from './kit-files.ts';
import { Kit } from './kit.ts';

const DEFAULT_MAX_SECONDS = 10;

function limitsOf(config: Readonly<Record<string, unknown>>): SampleLimits {
  const s = config.maxSeconds;
  return { maxSeconds: typeof s === 'number' && s > 0 && s <= 600 ? s : DEFAULT_MAX_SECONDS };
}

export default defineControl({
  async create(ctx) {
    let limits = limitsOf(ctx.config);
    const kit = new Kit(ctx, limits);
    ctx.route('/sampler/kit', { args: z.tuple([]), description: "reply /sampler/kit <json>: each drum's file, frames, channels and source format; files refused or ignored" }, (_args, r) => {
      r.replyJson('/sampler/kit', kit.status());
    });
    ctx.route('/sampler/reload', { args: z.tuple([]), description: 'read every sample in samples/ again; reply /sampler/kit <json>' }, async (_args, r) => {
      await kit.sync({ force: true });
      r.replyJson('/sampler/kit', kit.status());
    });
    await kit.sync({ force: true, initial: true });
    ctx.pluginFiles.watch(SAMPLES_DIR, (name) => {
      void kit.sync({ changed: name });
    });
    return {
      configChanged(config) {
        const next = limitsOf(config);
        if (next.maxSeconds === limits.maxSeconds) return;
        limits = next;
        kit.setLimits(next);
        void kit.sync({ force: true });
      },
      dispose() {
        kit.close();
      },
    };
  },
});

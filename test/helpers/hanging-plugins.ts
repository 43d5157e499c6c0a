/**
 * Plugins that hang the audio thread on purpose (watchdog tests and the hang-recovery bench), and a
 * writer for a one-module effect folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Loops forever in process() while its `hang` parameter (module hang1) is above 0.5. */
export const HANG_ON_PARAM = `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { hang: param(0, 1, 0, { smoothingMs: 0 }) },
  create(ctx) {
    const hang = ctx.param(0, 'hang');
    return { process() { if (hang.base > 0.5) for (;;) {} } };
  },
});`;

/** Loops forever in process() once it has processed `seconds` of audio (longer than its trial). */
export const hangAfter = (seconds: number) => `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { mix: param(0, 1, 1) },
  create(ctx) {
    let frames = 0;
    const limit = ${seconds} * ctx.sampleRate;
    return { process(s: number, e: number) { frames += e - s; if (frames > limit) for (;;) {} } };
  },
});`;

/** Writes `plugins/<id>/` under `pluginsDir`: an effect with one module `module` and `source` as index.ts. */
export async function writeEffectPlugin(pluginsDir: string, id: string, module: string, source: string): Promise<string> {
  const folder = path.join(pluginsDir, id);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'plugin.json'), JSON.stringify({ id, name: id, version: '1.0.0', apiVersion: 1, role: 'effect', entry: 'index.ts', modules: [module] }));
  await writeFile(path.join(folder, 'index.ts'), source);
  return folder;
}

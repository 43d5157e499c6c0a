/** An offline engine with the tone fixture only, watching its plugins, playing a note (hot-reload tests edit the tone's file). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine } from './offline-engine.ts';

export async function playingTone(t: { after(fn: () => Promise<void>): void }): Promise<{ e: OfflineEngine; file: string; source: string }> {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'], watch: true });
  t.after(() => e.close());
  await e.send('/gate/tone1', [1]);
  e.render(0.2);
  const file = path.join(e.root, 'plugins/tone/index.ts');
  return { e, file, source: await readFile(file, 'utf8') };
}

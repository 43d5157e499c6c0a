/** `chronus start`: run the engine until SIGINT/SIGTERM. */
import type { Config } from '../kernel/config.ts';
import { Engine } from '../kernel/engine.ts';

export async function startCommand(config: Config): Promise<number> {
  const engine = await Engine.start({ config });
  const { transport, audio } = engine;
  engine.log.info(`${audio.backend} backend, ${audio.sampleRate} Hz, ${audio.blockSize}-frame blocks; ${engine.plugins.loaded.size} plugins`);
  // The one machine-readable line: tests and scripts wait for it to learn the port.
  process.stdout.write(`chronus: listening on ${transport?.host}:${transport?.port}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  engine.log.info('stopping');
  await engine.stop();
  return 0;
}

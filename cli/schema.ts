/** `chronus schema`: load the plugins offline and print the schema JSON. */
import type { Config } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { schemaDocument } from '../kernel/params/schema-export.ts';

export async function schemaCommand(config: Config): Promise<number> {
  const engine = await Engine.start({ config, backend: 'offline', log: Logger.silent() });
  try {
    const schema = schemaDocument(engine);
    process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  } finally {
    await engine.stop();
  }
  return 0;
}

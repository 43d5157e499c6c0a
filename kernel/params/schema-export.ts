/**
 * The `/engine/schema` document (control thread): a superset of the old engine's export
 * (test/fixtures/old-engine/music-chronus-schema.json). From the registry: `modules` (per group:
 * name, type, notes, instances, params, gates); from the router: `registered_routes` and
 * `engine_commands` (every `/engine/...` route with its arguments and description); from plugins
 * whose manifest declares a `schema.section`: that section with their routes as `commands` (the
 * sequencer's is the old `sequencer` key, with `pattern_notation`).
 *
 * `/engine/schema file` writes it as `chronus_schema_<YYYYMMDD_HHMMSS>.json` (the old engine's name;
 * never overwritten) and `chronus-schema.json` (always the latest) into `paths.schemas`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OscRouter } from '../osc/osc-router.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';
import type { SchemaRegistry } from './schema-registry.ts';
import { writeFileAtomic } from '../base/atomic-file.ts';

/** The forms `/engine/schema` answers in (the old engine's three). */
export const SCHEMA_FORMATS = ['json', 'stdout', 'file'] as const;
export const LATEST_SCHEMA_FILE = 'chronus-schema.json';

export interface SchemaSources {
  readonly registry: SchemaRegistry;
  readonly router: OscRouter;
  readonly plugins: Pick<PluginHost, 'loaded'>;
}

interface Command {
  args: readonly string[];
  description: string;
  formats?: readonly string[];
}

export function schemaDocument({ registry, router, plugins }: SchemaSources): Record<string, unknown> {
  const routes = router.routes();
  const about = (id: string) => {
    const p = plugins.loaded.get(id);
    return p ? { name: p.manifest.name, description: p.manifest.description } : undefined;
  };
  const doc = registry.toJSON(
    routes.map((r) => r.address),
    about,
  );
  const commands = (addresses: readonly string[]): Record<string, Command> => {
    const out: Record<string, Command> = {};
    for (const address of addresses) {
      const route = routes.find((r) => r.address === address);
      if (!route) continue;
      out[address] = { args: router.usage(address) ?? [], description: route.description };
      if (address === '/engine/schema') out[address].formats = SCHEMA_FORMATS;
    }
    return out;
  };
  for (const p of plugins.loaded.values()) {
    const section = p.manifest.schema;
    if (!section) continue;
    doc[section.section] = { commands: commands((p.definition.routes ?? []).map((r) => r.address)), ...section.notes };
  }
  doc.engine_commands = commands(routes.filter((r) => r.address.startsWith('/engine/')).map((r) => r.address));
  return doc;
}

/** `chronus_schema_20260102_134500.json` for a time (local time, like the old engine's strftime). */
export function stampedSchemaName(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `chronus_schema_${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}_${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}.json`;
}

/** Write the time-stamped export (a new name if one exists this second) and the latest; returns both paths. */
export async function writeSchemaFiles(dir: string, schema: unknown, at = new Date()): Promise<{ stamped: string; latest: string }> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  const base = stampedSchemaName(at).replace(/\.json$/, '');
  for (let n = 1; ; n++) {
    const stamped = path.join(dir, n === 1 ? `${base}.json` : `${base}_${n}.json`);
    try {
      await writeFile(stamped, text, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && n < 100) continue;
      throw e;
    }
    const latest = path.join(dir, LATEST_SCHEMA_FILE);
    await writeFileAtomic(latest, text);
    return { stamped, latest };
  }
}

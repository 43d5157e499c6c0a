/**
 * `chronus new-plugin <name> --role <role>`: scaffolds `plugins/<name>/` (plugin.json, index.ts and a
 * pure dsp.ts) that loads as it is and passes the conformance suite. It writes only inside the
 * plugins folder, and refuses an existing folder, an invalid name or role, or a name whose plugin id
 * or module id another plugin already uses — each with a message naming what was wrong.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../kernel/base/config.ts';
import { ErrorCode } from '../kernel/base/errors.ts';
import { expandModules, parseManifest, PLUGIN_ID_RE, readManifest, ROLES, type Role } from '../kernel/plugins/manifest.ts';
import { API_VERSION } from '../plugin-sdk/types.ts';
import { TEMPLATES } from './new-plugin-templates.ts';

const MAX_NAME = 40;

/** A refused scaffold: the message says what was wrong, then how to fix it. */
export class NewPluginError extends Error {
  override readonly name = 'NewPluginError';
  readonly code = ErrorCode.NEW_PLUGIN_REFUSED;
  constructor(
    readonly problem: string,
    readonly hint: string,
  ) {
    super(`${ErrorCode.NEW_PLUGIN_REFUSED}: new-plugin: ${problem}\n${hint}`);
  }
}

function refuse(problem: string, hint: string): NewPluginError {
  return new NewPluginError(problem, hint);
}

/** "my-synth" → "My Synth". */
function displayName(id: string): string {
  return id
    .split('-')
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');
}

/** The module id of plugin `id`: dashes become "_", then "1" (e.g. "my-synth" → "my_synth1"). */
export function moduleIdOf(id: string): string {
  return `${busOf(id)}1`;
}

/** A send's bus for plugin `id`: the id with "_" for "-" (a bus names the parameter `send/<bus>`). */
export function busOf(id: string): string {
  return id.replace(/-/g, '_');
}

export interface ScaffoldResult {
  dir: string;
  files: string[];
  module: string;
}

/** Checks the name and role; throws a coded error naming what was wrong. */
export function checkScaffoldArgs(name: unknown, role: unknown): { name: string; role: Role } {
  if (typeof name !== 'string' || name === '') {
    throw refuse('a plugin name is required', 'Usage: chronus new-plugin <name> --role <source|effect|send|modulator|controller|sink>');
  }
  if (!PLUGIN_ID_RE.test(name) || name.length > MAX_NAME) {
    throw refuse(
      `"${name.slice(0, 60)}" is not a valid plugin name`,
      `A plugin name is its id: lowercase letters, digits and "-", starting with a letter, at most ${MAX_NAME} characters (e.g. "my-echo").`,
    );
  }
  if (typeof role !== 'string' || role === '') {
    throw refuse('--role is required', `Give one of: ${ROLES.join(', ')}.`);
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    throw refuse(`"${role.slice(0, 60)}" is not a plugin role`, `--role must be one of: ${ROLES.join(', ')}.`);
  }
  return { name, role: role as Role };
}

/** Writes `<pluginsDir>/<name>/` for `role`. `numVoices` expands pattern modules when checking for clashes. */
export async function scaffoldPlugin(pluginsDir: string, nameArg: unknown, roleArg: unknown, numVoices = 128): Promise<ScaffoldResult> {
  const { name, role } = checkScaffoldArgs(nameArg, roleArg);
  const base = path.resolve(pluginsDir);
  const dir = path.resolve(base, name);
  // The name pattern allows no separator or "..", so this holds; checked anyway: nothing is written outside.
  if (path.dirname(dir) !== base) throw refuse(`"${name}" would leave the plugins folder`, 'Give a plain name such as "my-echo".');
  if (existsSync(dir)) {
    throw refuse(`${path.join(path.basename(base), name)}/ already exists`, 'Pick another name, or edit the existing plugin.');
  }
  const module = moduleIdOf(name);
  // Another plugin claiming the same id or module would not load: refuse now, naming it.
  if (existsSync(base)) {
    for (const folder of readdirSync(base).sort()) {
      if (!existsSync(path.join(base, folder, 'plugin.json'))) continue;
      const other = await readManifest(path.join(base, folder), API_VERSION).catch(() => undefined);
      if (!other) continue;
      if (other.id === name) throw refuse(`plugins/${folder}/ already has the id "${name}"`, 'A plugin id belongs to one folder; pick another name.');
      if (expandModules(other, { numVoices }).includes(module)) {
        throw refuse(`plugins/${folder}/ already provides the module "${module}"`, 'Pick another name (the module id is the name with "_" for "-" and a 1).');
      }
    }
  }

  const t = TEMPLATES[role];
  const fill = (text: string) =>
    text.replaceAll('__ID__', name).replaceAll('__NAME__', displayName(name)).replaceAll('__MODULE__', module).replaceAll('__BUS__', busOf(name));
  const manifest = {
    id: name,
    name: displayName(name),
    version: '0.1.0',
    apiVersion: API_VERSION,
    role,
    ...JSON.parse(fill(JSON.stringify(t.manifest))),
    entry: 'index.ts',
    description: `${module}: ${fill(t.description)}`,
    modules: [module],
  };
  // The manifest is valid by construction; a template that drifted from the schema fails here, not at load.
  parseManifest(manifest, `plugins/${name}/plugin.json`, API_VERSION);

  await mkdir(base, { recursive: true });
  await mkdir(dir);
  const files: [string, string][] = [
    ['plugin.json', `${JSON.stringify(manifest, null, 2)}\n`],
    ['index.ts', fill(t.index)],
    ['dsp.ts', fill(t.dsp)],
  ];
  try {
    for (const [file, text] of files) await writeFile(path.join(dir, file), text, { flag: 'wx' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, files: files.map(([f]) => path.join(dir, f)), module };
}

export async function newPluginCommand(root: string, config: Config, args: string[], role: string | undefined): Promise<number> {
  if (args.length > 1) throw refuse(`one name expected (found ${args.length}: ${args.slice(0, 4).join(' ')})`, 'Usage: chronus new-plugin <name> --role <role>');
  const pluginsDir = path.resolve(root, config.paths.plugins);
  const result = await scaffoldPlugin(pluginsDir, args[0], role, config.engine.numVoices);
  const rel = path.relative(process.cwd(), result.dir) || result.dir;
  process.stdout.write(
    `created ${rel}/ (plugin.json, index.ts, dsp.ts): module ${result.module}, role ${role}\n` +
      `a running engine loads it now; its parameters are at /mod/${result.module}/<param>. See docs/plugin-guide.md.\n`,
  );
  return 0;
}

/**
 * Plugin manifests: `plugins/<folder>/plugin.json`, validated with zod (control thread).
 *
 * The manifest says who the plugin is (`id`, a slug that never changes), which kernel API it was
 * written for, where it sits in the signal path (`role`, `order`, `bus`) and which modules (the names
 * OSC addresses) it provides. A bad manifest is rejected with every problem listed.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ChronusError, ErrorCode, formatZodIssues, PARSE_ONCE, preview } from '../base/errors.ts';
import { MODULE_ID_RE, PLUGIN_ID_RE } from '../../plugin-sdk/ids.ts';

export { MODULE_ID_RE, PLUGIN_ID_RE };

export const ROLES = ['source', 'effect', 'send', 'modulator', 'controller', 'sink'] as const;
export type Role = (typeof ROLES)[number];

/** A bus name in a manifest. */
const BUS_RE = /^[a-z][a-z0-9_-]*$/;
/** A send bus name: it becomes a parameter segment (`send/<bus>`), so no "-". */
const SEND_BUS_RE = /^[a-z][a-z0-9_]*$/;
/** A module name pattern: a module id with `{n}` once (1-based index), e.g. `voice{n}`. */
const MODULE_PATTERN_RE = /^[a-z][a-z0-9_]*\{n\}[a-z0-9_]*$/;
/** The largest count a module pattern may ask for (and what `config:numVoices` is checked against). */
export const MAX_PATTERN_COUNT = 128;
export const EFFECT_BUSES = ['main', 'master'] as const;
/** Top-level keys of `/engine/schema` that the kernel writes itself (kernel/params/schema-export.ts). */
export const RESERVED_SCHEMA_KEYS: readonly string[] = ['version', 'engine', 'schema_version', 'modules', 'engine_commands', 'registered_routes'];

/** An address an old client sends: `/mod/...` or `/gate/...`; ending in "/", it stands for every address under it. */
export const ALIAS_ADDRESS_RE = /^\/(?:mod|gate)(?:\/[A-Za-z0-9_]+)+\/?$/;

const moduleId = z.string().regex(MODULE_ID_RE, {
  error: 'must be a module id: lowercase letters, digits and "_", starting with a letter (e.g. "dist1")',
});

export const ModulePatternSchema = z.strictObject({
  pattern: z.string().regex(MODULE_PATTERN_RE, {
    error: 'must be a module id containing "{n}" once, e.g. "voice{n}"',
  }),
  count: z.union([z.number().int().min(1).max(MAX_PATTERN_COUNT), z.literal('config:numVoices')]),
});

const entry = z
  .string()
  .regex(/\.(ts|js)$/, { error: 'must name a .ts or .js file, e.g. "index.ts"' })
  .refine((p) => !path.posix.isAbsolute(p) && !path.win32.isAbsolute(p), {
    error: 'must be a path relative to the plugin folder, not an absolute path',
  })
  .refine((p) => !p.split(/[\\/]/).includes('..'), {
    error: 'must stay inside the plugin folder: remove ".." from the path',
  });

export const ManifestSchema = z
  .strictObject({
    id: z.string().regex(PLUGIN_ID_RE, {
      error: 'must be a plugin id: lowercase letters, digits and "-", starting with a letter (e.g. "hall")',
    }),
    name: z.string().min(1),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, { error: 'must be a semantic version x.y.z, e.g. "1.0.0"' }),
    apiVersion: z.number().int().min(1),
    role: z.enum(ROLES),
    /** The audio half's entry; a plugin without one has only a control half (and no modules). */
    entry: entry.optional(),
    /** The control half's entry (control thread: files, sockets, timers, routes), e.g. "control.ts". */
    control: entry.optional(),
    /**
     * The control half's folder for files, relative to the project root unless `paths.<folder>` or
     * `plugins.<id>.folder` in config says otherwise (default `data/<id>`).
     */
    folder: z.string().regex(/^[a-z][a-z0-9_-]*$/, { error: 'must be a folder name: lowercase letters, digits, "-" and "_" (e.g. "samples")' }).optional(),
    /**
     * OSC addresses the plugin adds besides `/mod/…` and `/gate/…` (its control half may map only
     * these): while it is disabled or failed to load, they answer how to turn it on
     * (kernel/plugins/absent-routes.ts).
     */
    routes: z
      .array(
        z
          .string()
          .regex(/^\/[a-z0-9_]+(\/[a-z0-9_]+)*$/, { error: 'must be an OSC address: "/" then lowercase segments, e.g. "/engine/sample/load"' })
          .refine((a) => !a.startsWith('/mod/') && !a.startsWith('/gate/'), { error: 'must not be under /mod/ or /gate/ (those are the kernel\'s)' }),
      )
      .optional(),
    enabled: z.boolean().default(true),
    description: z.string().default(''),
    modules: z.union([z.array(moduleId), ModulePatternSchema]).default([]),
    /** Sort key within a role (lower runs first). */
    order: z.number().default(0),
    /**
     * Effects: "main" (default) or "master". Sends: the name of the send bus the plugin provides,
     * e.g. "hall": the kernel makes `send:hall` while it is loaded, and every source that takes
     * sends gets `send/hall` on each module.
     */
    bus: z.string().regex(BUS_RE, { error: 'must be a bus name, e.g. "main" or "hall"' }).optional(),
    /**
     * Old names that reach this plugin's modules (kernel/plugins/plugin-aliases.ts): a module id for a
     * module (`{ "sine1": "voice1" }`: `/mod/sine1/…` and `/gate/sine1`), or an address for an address
     * of a module (`{ "/mod/filter1/": "/mod/voice1/filter/", "/gate/1": "/gate/voice1" }`; ending in
     * "/", every address under it).
     */
    aliases: z
      .record(
        z.string().refine((k) => MODULE_ID_RE.test(k) || ALIAS_ADDRESS_RE.test(k), {
          error: 'must be a module id (e.g. "sine1") or an address under /mod/ or /gate/ (e.g. "/mod/filter1/")',
        }),
        z.string().min(1),
      )
      .optional(),
    /**
     * A top-level section this plugin adds to `/engine/schema`: its routes as `<section>.commands`,
     * plus `notes` (more keys of the section), e.g. the old engine's `sequencer.pattern_notation`.
     */
    schema: z
      .strictObject({
        section: z
          .string()
          .regex(/^[a-z][a-z0-9_]*$/, { error: 'must be a lower_snake key, e.g. "sequencer"' })
          .refine((k) => !RESERVED_SCHEMA_KEYS.includes(k), { error: `must not be one of the kernel's own keys (${RESERVED_SCHEMA_KEYS.join(', ')})` }),
        notes: z.record(z.string().max(64), z.unknown()).optional(),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const issue = (p: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path: p, message });
    if (m.bus !== undefined && m.role === 'effect' && !(EFFECT_BUSES as readonly string[]).includes(m.bus)) {
      issue(['bus'], `an effect's bus must be one of ${EFFECT_BUSES.join(', ')}`);
    }
    if (m.role === 'send' && m.bus === undefined) issue(['bus'], 'a send needs the name of its bus, e.g. "hall"');
    if (m.role === 'send' && m.bus !== undefined && !SEND_BUS_RE.test(m.bus)) {
      issue(['bus'], `a send's bus also names the parameter send/<bus> of every source: lowercase letters, digits and "_", starting with a letter (e.g. "${m.bus.replaceAll('-', '_')}")`);
    }
    if (m.bus !== undefined && m.role !== 'effect' && m.role !== 'send') {
      issue(['bus'], `only effect and send plugins have a bus; remove it (role is "${m.role}")`);
    }
    if (m.entry === undefined && m.control === undefined) issue(['entry'], 'a plugin needs an "entry" (its audio half), a "control" (its control half), or both');
    if (m.entry !== undefined && Array.isArray(m.modules) && m.modules.length === 0) issue(['modules'], 'a plugin with an audio half provides at least one module, e.g. ["dist1"]');
    if (m.entry === undefined && !(Array.isArray(m.modules) && m.modules.length === 0)) issue(['modules'], 'modules belong to an audio half: add an "entry" or remove "modules"');
    const ids = expandModules(m, { numVoices: MAX_PATTERN_COUNT });
    if (Array.isArray(m.modules)) {
      const seen = new Set<string>();
      m.modules.forEach((id, i) => {
        if (seen.has(id)) issue(['modules', i], `module "${id}" is listed twice`);
        seen.add(id);
      });
    }
    for (const [alias, target] of Object.entries(m.aliases ?? {})) {
      if (alias.startsWith('/')) {
        const problem = addressAliasProblem(alias, target, ids);
        if (problem) issue(['aliases', alias], problem);
        continue;
      }
      if (ids.includes(alias)) issue(['aliases', alias], `"${alias}" is already a module of this plugin`);
      if (!ids.includes(target)) issue(['aliases', alias], `"${target}" is not a module of this plugin`);
    }
  });

/** Why an address alias is refused, or undefined: it must lead to an address of one of the plugin's own modules, a prefix to a prefix. */
function addressAliasProblem(alias: string, target: string, ids: readonly string[]): string | undefined {
  if (!ALIAS_ADDRESS_RE.test(target)) return `"${target}" must be an address under /mod/ or /gate/`;
  if (alias.endsWith('/') !== target.endsWith('/')) return `"${alias}" and "${target}" must both end in "/" (every address under them) or neither`;
  const [, kind, module] = target.split('/');
  if (!ids.includes(module)) return `"${target}" is not an address of a module of this plugin (${ids.length > 3 ? `${ids.slice(0, 3).join(', ')}, …` : ids.join(', ')})`;
  if (kind === 'gate' && target !== `/gate/${module}`) return `"${target}": a gate address is /gate/<module>`;
  return undefined;
}

/** A parsed manifest (defaults applied: `enabled`, `description`, `order`; an effect's `bus` is "main" unless given). */
export type Manifest = z.infer<typeof ManifestSchema>;
export type ModulePattern = z.infer<typeof ModulePatternSchema>;

/** Validates a manifest. Throws PLUGIN_API_MISMATCH or PLUGIN_MANIFEST_INVALID (every problem listed). */
export function parseManifest(json: unknown, file: string, apiVersion: number): Manifest {
  const found = (json as { apiVersion?: unknown } | null)?.apiVersion;
  if (typeof found === 'number' && Number.isInteger(found) && found !== apiVersion) {
    const fix =
      found > apiVersion
        ? `This plugin needs a newer Chronus; upgrade Chronus or use a version of the plugin written for API ${apiVersion}.`
        : `Update the plugin to API ${apiVersion} (see plugin-sdk/types.ts) and set "apiVersion": ${apiVersion}.`;
    throw new ChronusError(ErrorCode.PLUGIN_API_MISMATCH, `${file} is written for a different plugin API:`, {
      details: [`${file}: apiVersion: expected ${apiVersion} (found ${preview(found)})`],
      hint: fix,
    });
  }
  const parsed = ManifestSchema.safeParse(json, PARSE_ONCE);
  if (!parsed.success) {
    throw new ChronusError(ErrorCode.PLUGIN_MANIFEST_INVALID, `${file} is not a valid plugin manifest:`, {
      details: formatZodIssues(parsed.error, file, json),
      hint: 'Fix the fields listed; see an existing plugins/*/plugin.json for the shape.',
    });
  }
  const manifest = parsed.data;
  if (manifest.role === 'effect' && manifest.bus === undefined) manifest.bus = 'main';
  return manifest;
}

/** The module ids a plugin provides, in order: the list as given, or the pattern expanded 1..count. */
export function expandModules(manifest: Pick<Manifest, 'modules'>, options: { numVoices: number }): string[] {
  const { modules } = manifest;
  if (Array.isArray(modules)) return [...modules];
  const count = modules.count === 'config:numVoices' ? options.numVoices : modules.count;
  return Array.from({ length: count }, (_, i) => modules.pattern.replace('{n}', String(i + 1)));
}

/**
 * Reads and validates `<dir>/plugin.json` and checks its entry file exists. `label` names the file in
 * messages (default `<parent>/<folder>/plugin.json`, e.g. `plugins/my-echo/plugin.json`).
 */
export async function readManifest(dir: string, apiVersion: number, label?: string): Promise<Manifest> {
  const file = path.join(dir, 'plugin.json');
  const name = label ?? [path.basename(path.dirname(path.resolve(dir))), path.basename(path.resolve(dir)), 'plugin.json'].join('/');
  const invalid = (detail: string, hint: string, cause?: unknown) =>
    new ChronusError(ErrorCode.PLUGIN_MANIFEST_INVALID, `${name} cannot be read:`, { details: [`${name}: ${detail}`], hint, cause });

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw invalid(
      missing ? 'file not found' : `cannot read the file (${(error as Error).message})`,
      missing ? 'Every plugin folder needs a plugin.json manifest next to its entry file.' : 'Check the file permissions.',
      error,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(`not valid JSON (${(error as Error).message})`, 'Fix the JSON syntax.', error);
  }
  const manifest = parseManifest(json, name, apiVersion);
  for (const field of ['entry', 'control'] as const) {
    const file = manifest[field];
    if (file === undefined) continue;
    const full = path.join(dir, file);
    const isFile = await stat(full).then((s) => s.isFile(), () => false);
    if (!isFile) {
      throw new ChronusError(ErrorCode.PLUGIN_MANIFEST_INVALID, `${name} names an ${field} file that does not exist:`, {
        details: [`${name}: ${field}: no file at ${full} (found ${preview(file)})`],
        hint: `Create the file or fix "${field}" in plugin.json.`,
      });
    }
  }
  return manifest;
}

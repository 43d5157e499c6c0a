/**
 * `chronus docs [--check] [-o <file>]`: writes the module reference (docs/modules.md) from the live
 * schema — the plugins loaded offline, as `chronus schema` does, every plugin enabled (a plugin off
 * by default is documented and marked so). The output is deterministic (plugins sorted by id, modules
 * in manifest order, no dates), so it is committed and `--check` fails CI when it is out of date.
 *
 * The configuration is config/default.json alone (no local.json, no environment), so the reference
 * is the same on every machine.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type Config } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { expandModules, readManifest } from '../kernel/plugins/manifest.ts';
import { API_VERSION } from '../plugin-sdk/types.ts';
import { readdirSync, existsSync } from 'node:fs';

/** One parameter as `/engine/schema` lists it. */
export interface SchemaParam {
  type: 'float' | 'int' | 'enum';
  min: number;
  max: number;
  default: number;
  smoothing_ms: number;
  unit?: string;
  values?: string[];
  description?: string;
}

/** One schema group (a module, or a pattern's modules such as voice1…voiceN) as `/engine/schema` lists it. */
export interface SchemaGroup {
  plugin: string;
  instances: string[];
  params: Record<string, SchemaParam>;
  gates: string[];
}

export interface Schema {
  modules: Record<string, SchemaGroup>;
  registered_routes: string[];
}

/** What the generator knows of a plugin besides the schema. */
export interface PluginDoc {
  id: string;
  name: string;
  version: string;
  role: string;
  bus?: string;
  /** A source that takes sends: the send buses it was given (a `send/<bus>` on each module). */
  sends?: string[];
  order: number;
  description: string;
  enabledByDefault: boolean;
  modules: string[];
  aliases: Record<string, string>;
  gateFollows: Record<string, string>;
  routes: { address: string; description: string; reply?: string }[];
}

export interface DocsInput {
  schema: Schema;
  plugins: PluginDoc[];
  numVoices: number;
}

export const DOCS_FILE = path.join('docs', 'modules.md');

/** The configuration the reference is generated with: config/default.json only, every plugin enabled. */
export async function docsConfig(root: string): Promise<{ config: Config; enabledByDefault: Map<string, boolean> }> {
  const config = loadConfig({ root, env: {}, localFile: false });
  config.engine.stageSeconds = 0;
  const enabledByDefault = new Map<string, boolean>();
  const dir = path.resolve(root, config.paths.plugins);
  for (const name of readdirSync(dir).sort()) {
    if (!existsSync(path.join(dir, name, 'plugin.json'))) continue;
    const manifest = await readManifest(path.join(dir, name), API_VERSION, `plugins/${name}/plugin.json`);
    const section = config.plugins[manifest.id] ?? {};
    enabledByDefault.set(manifest.id, (section as { enabled?: boolean }).enabled ?? manifest.enabled);
    config.plugins[manifest.id] = { ...section, enabled: true };
  }
  return { config, enabledByDefault };
}

/** Loads every plugin of `root` in an offline engine (no sound card) and collects what the reference needs. */
export async function collectDocs(root: string): Promise<DocsInput> {
  const { config, enabledByDefault } = await docsConfig(root);
  const engine = await Engine.start({ config, backend: 'offline', listen: false, status: false, watch: false, log: Logger.silent() });
  try {
    const routes = engine.router.routes();
    const schema = engine.registry.toJSON(routes.map((r) => r.address)) as unknown as Schema;
    // The control half's routes (their descriptions as the router has them).
    const controlRoutes = (id: string) => routes.filter((r) => engine.plugins.controls.addresses(id).includes(r.address));
    const plugins: PluginDoc[] = [...engine.plugins.loaded.values()].map((p) => ({
      id: p.manifest.id,
      name: p.manifest.name,
      version: p.manifest.version,
      role: p.manifest.role,
      bus: p.manifest.bus,
      ...(p.spec.sends === undefined ? {} : { sends: [...p.spec.sends] }),
      order: p.manifest.order,
      description: p.manifest.description,
      enabledByDefault: enabledByDefault.get(p.manifest.id) ?? true,
      modules: expandModules(p.manifest, { numVoices: config.engine.numVoices }),
      aliases: { ...(p.manifest.aliases ?? {}) },
      gateFollows: { ...(p.definition.gateFollows ?? {}) },
      routes: [
        ...(p.definition.routes ?? []).map((r) => ({ address: r.address, description: r.description, ...(r.reply ? { reply: r.reply } : {}) })),
        ...controlRoutes(p.manifest.id),
      ],
    }));
    return { schema, plugins, numVoices: config.engine.numVoices };
  } finally {
    await engine.stop();
  }
}

/** Markdown table cell: no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function num(n: number): string {
  return String(n);
}

function instancesLabel(group: SchemaGroup): string {
  const list = group.instances;
  if (list.length <= 2) return list.map((m) => `\`${m}\``).join(', ');
  return `\`${list[0]}\` … \`${list[list.length - 1]}\``;
}

function paramRow(name: string, p: SchemaParam): string {
  const range = `${num(p.min)} – ${num(p.max)}`;
  const def = p.type === 'enum' && p.values ? `${num(p.default)} (${p.values[p.default] ?? '?'})` : num(p.default);
  const type = p.type === 'enum' && p.values ? `enum: ${p.values.map((v, i) => `${i} ${v}`).join(' · ')}` : p.type;
  return `| \`${name}\` | ${range} | ${def} | ${cell(p.unit ?? '')} | ${cell(type)} | ${num(p.smoothing_ms)} | ${cell(p.description ?? '')} |`;
}

/** The reference as markdown: deterministic for the same plugins and defaults. */
export function renderModulesMarkdown(input: DocsInput): string {
  const { schema } = input;
  const plugins = [...input.plugins].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const groups = Object.entries(schema.modules);
  const moduleCount = groups.reduce((n, [, g]) => n + g.instances.length, 0);
  const paramCount = groups.reduce((n, [, g]) => n + Object.keys(g.params).length, 0);
  const out: string[] = [];
  out.push('# Modules and parameters');
  out.push('');
  out.push('<!-- Generated by `chronus docs` (npm run docs) from the plugins\' parameter tables: do not edit by hand. -->');
  out.push('');
  out.push(
    `Every module and parameter the plugins in \`plugins/\` declare: the data of \`/engine/schema\`, with the ` +
      `default configuration (\`engine.numVoices\` = ${input.numVoices}). ${plugins.length} plugins, ${moduleCount} modules, ` +
      `${paramCount} distinct parameters (a pattern's modules, such as \`voice1\` … \`voiceN\`, share one table).`,
  );
  out.push('');
  out.push('Set a parameter with `/mod/<module>/<param> <value>`: out-of-range values are clamped, `int` and `enum` ' +
    'values are rounded, and every change is smoothed over the time given (to within 1 %; 0 steps at once). ' +
    'Open or release a gated module with `/gate/<module> <0|1>`.');
  out.push('');
  out.push('| plugin | role | modules |');
  out.push('| --- | --- | --- |');
  for (const p of plugins) {
    const mods = groups.filter(([, g]) => g.plugin === p.id).map(([, g]) => instancesLabel(g)).join(', ');
    out.push(`| [${p.id}](#${p.id}) | ${p.role} | ${mods} |`);
  }
  for (const p of plugins) {
    out.push('');
    out.push(`## ${p.id}`);
    out.push('');
    const facts = [`**${cell(p.name)}** ${p.version}`, `role \`${p.role}\``];
    if (p.bus) facts.push(`bus \`${p.bus}\``);
    if (p.sends) facts.push(`takes sends: \`send/<bus>\` on every module for each send plugin loaded (here ${p.sends.map((b) => `\`${b}\``).join(', ') || 'none'})`);
    if (p.order !== 0) facts.push(`order ${num(p.order)}`);
    if (!p.enabledByDefault) facts.push(`off by default (enable with \`plugins.${p.id}.enabled\`)`);
    out.push(facts.join(' · '));
    out.push('');
    if (p.description) {
      out.push(p.description);
      out.push('');
    }
    const aliases = Object.entries(p.aliases).sort(([a], [b]) => (a < b ? -1 : 1));
    if (aliases.length > 0) {
      out.push(`Aliases (old addresses): ${aliases.map(([a, t]) => `\`${a}\` → \`${t}\``).join(', ')}.`);
      out.push('');
    }
    for (const [key, group] of groups.filter(([, g]) => g.plugin === p.id)) {
      out.push(`### ${instancesLabel(group)}`);
      out.push('');
      const notes: string[] = [];
      if (group.instances.length > 2) notes.push(`${group.instances.length} modules (schema group \`${key}\`)`);
      const follows = group.instances.map((m) => [m, p.gateFollows[m]] as const).filter(([, f]) => f !== undefined);
      if (follows.length > 0) notes.push(follows.map(([m, f]) => `\`${m}\` follows the gates of \`${f}\``).join(', '));
      else if (group.gates.length > 0) notes.push(`gate: \`/gate/${group.instances.length > 2 ? `${key}N` : group.instances[0]} <0|1>\``);
      if (notes.length > 0) {
        out.push(`${notes.join('; ')}.`);
        out.push('');
      }
      const names = Object.keys(group.params);
      if (names.length === 0) {
        out.push('No parameters.');
        out.push('');
        continue;
      }
      out.push('| parameter | range | default | unit | type | smoothing ms | description |');
      out.push('| --- | --- | --- | --- | --- | --- | --- |');
      for (const name of names) out.push(paramRow(name, group.params[name]));
      out.push('');
    }
    if (p.routes.length > 0) {
      out.push(`Its own OSC routes (besides \`/mod/<module>/<param>\`):`);
      out.push('');
      out.push('| address | reply | description |');
      out.push('| --- | --- | --- |');
      for (const r of p.routes) out.push(`| \`${r.address}\` | ${r.reply ? `\`${r.reply}\`` : ''} | ${cell(r.description)} |`);
      out.push('');
    }
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '')}\n`;
}

/** Generates the reference for the project at `root`. */
export async function generateModulesDoc(root: string): Promise<string> {
  return renderModulesMarkdown(await collectDocs(root));
}

/** The command: write `<root>/docs/modules.md` (or `out`), or with `check` compare and exit 1 when it differs. */
export async function docsCommand(root: string, options: { check?: boolean; out?: string } = {}): Promise<number> {
  const file = path.resolve(root, options.out ?? DOCS_FILE);
  const text = await generateModulesDoc(root);
  const label = path.relative(process.cwd(), file) || file;
  if (options.check) {
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current === text) {
      process.stdout.write(`${label} is up to date\n`);
      return 0;
    }
    process.stderr.write(
      `chronus: ${label} ${current === undefined ? 'does not exist' : 'is out of date with the plugins\' parameter tables'}; run \`npm run docs\` (chronus docs) and commit it\n`,
    );
    return 1;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  process.stdout.write(`wrote ${label}\n`);
  return 0;
}

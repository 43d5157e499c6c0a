/**
 * Declared send buses (control thread). A send plugin declares the bus it provides with its
 * manifest's `bus` (`"bus": "hall"`: the bus `send:hall`); a source whose definition says
 * `sends: true` gets a parameter `send/<bus>` on each module for every declared bus, and the buses
 * and levels in `ctx.sends`. This file derives both from what is loaded; the plugin host reloads each
 * source that takes sends when the set of buses changes (a send plugin dropped in, removed, disabled
 * or given another bus), through the ordinary hot reload: state handed over, values of the sends
 * that stay kept, crossfaded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ParamSpec, ParamTable, PluginDefinition } from '../../plugin-sdk/types.ts';
import { sendParamName } from '../audio/send-list.ts';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import type { Manifest } from './manifest.ts';

/** The send buses that the send plugins among `plugins` declare: sorted, each once. */
export function declaredSendBuses(plugins: Iterable<{ manifest: Manifest }>): string[] {
  const buses = new Set<string>();
  for (const { manifest } of plugins) if (manifest.role === 'send' && manifest.bus !== undefined) buses.add(manifest.bus);
  return [...buses].sort();
}

/**
 * Whether the plugin in `folder` says it is a send (a quick look at its plugin.json, before it is
 * loaded and validated: anything unreadable is no send, and its load reports it).
 */
export function declaresSend(folder: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(folder, 'plugin.json'), 'utf8')) as { role?: unknown }).role === 'send';
  } catch {
    return false;
  }
}

/** The level parameter every module of a source that takes sends has for send bus `bus`. */
export function sendParamSpec(bus: string): ParamSpec {
  return { min: 0, max: 1, default: 0, description: `Send level to the ${bus} bus` };
}

/**
 * The parameter table of a plugin's modules and the send buses it feeds: its own table, plus
 * `send/<bus>` for each of `buses` when it is a source that takes sends. A plugin that is not a
 * source but says `sends: true`, or whose own table names a generated parameter, is refused.
 */
export function withSends(manifest: Manifest, definition: PluginDefinition, buses: readonly string[]): { table: ParamTable; sends: string[] | undefined } {
  if (definition.sends !== true) return { table: definition.params, sends: undefined };
  if (manifest.role !== 'source') {
    throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" says sends: true, but its role is "${manifest.role}"`, {
      hint: 'Only a source feeds the send buses: remove `sends` from the definition, or make the plugin a source.',
    });
  }
  const table: Record<string, ParamSpec> = { ...definition.params };
  for (const bus of buses) {
    const name = sendParamName(bus);
    if (name in table) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" declares the parameter "${name}" itself, but it takes sends`, {
        hint: `With sends: true the kernel makes ${name} for the "${bus}" bus: remove it from the parameter table and read it from ctx.sends.`,
      });
    }
    table[name] = sendParamSpec(bus);
  }
  return { table, sends: [...buses] };
}

/** Whether a source was given exactly `buses`. */
export function feedsExactly(sends: readonly string[] | undefined, buses: readonly string[]): boolean {
  return sends !== undefined && sends.length === buses.length && sends.every((b, i) => b === buses[i]);
}

/**
 * The notices for the parameters a new version of a plugin no longer has: one per send bus that is
 * gone (not one per module), one per other parameter.
 */
export function removalNotices(removed: readonly string[], before: readonly string[] | undefined, after: readonly string[] | undefined, version: string): string[] {
  const gone = (before ?? []).filter((b) => !(after ?? []).includes(b));
  const generated = new Set(gone.map(sendParamName));
  const notices = gone.map((bus) => `send bus "${bus}" is gone (no loaded send plugin declares it): ${sendParamName(bus)} was removed from every module`);
  for (const r of removed) {
    if (!generated.has(r.slice(r.indexOf('/') + 1))) notices.push(`parameter ${r} is gone in version ${version}; its value was dropped`);
  }
  return notices;
}

/**
 * What a plugin reads of the old engine's (Music Chronus) slot files: the patterns plugin migrates an
 * old slot with what the loaded plugins declare here (plugins/patterns/legacy.ts), and names no
 * module or field of its own. Declared in the definition as `legacy`; read on the control thread.
 *
 * An old slot is `{ chronus_version, schema_version: "1.0", timestamp, modules: { <id>: { … } }, <section>: … }`.
 */
import type { ZodType } from 'zod';

/**
 * A field of an old module section: the parameter its number becomes (`'filter/freq'`); a group of
 * numbers, each to a parameter (`{ group: { attack: 'adsr/attack' } }`); or a label that is read and
 * dropped — a text of at most 64 characters (`{ label: 'text' }`, e.g. `voice_id`) or true/false (`{ label: 'flag' }`).
 */
export type LegacyField = string | { readonly label: 'text' | 'flag' } | { readonly group: Readonly<Record<string, string>> };

export interface LegacySlot {
  /**
   * Old module sections this plugin's modules come from, e.g. `{ pattern: 'voice{n}', fields: { filter_freq: 'filter/freq', … } }`:
   * the ids (`{n}` a number of one or two digits; a module keeps its id) and every field they may
   * have. A field not listed refuses the slot, naming it; every number is bounded (±1e9).
   */
  readonly modules?: { readonly pattern: string; readonly fields: Readonly<Record<string, LegacyField>> };
  /**
   * A top-level section of the old slot that becomes this plugin's state, e.g. the sequencer's
   * `sequencer`: its shape (refused, naming the field, unless it passes) and the state it becomes
   * (which the plugin's `stateSchema` checks at load, as any state).
   */
  readonly section?: { readonly key: string; readonly schema: ZodType; toState(section: never): unknown };
}

/** A loaded plugin's `legacy` declaration with its id (whose state a claimed section becomes): `ctx.engine.legacyReaders()`. */
export interface LegacyReader extends LegacySlot {
  readonly pluginId: string;
}

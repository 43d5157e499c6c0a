/**
 * Saving and loading the whole engine to and from pattern slots (control thread).
 *
 * Save: the engine as data (`ctx.engine.capture`: every parameter's base value, every plugin's 'save'
 * state — sequencer tracks and tempo, LFO targets, …) into one slot document, validated against the
 * slot schema before it is written, so a saved slot always loads.
 *
 * Load: the file is read and validated (or migrated from the old engine's format with what the loaded
 * plugins read of it) first; then `ctx.engine.restore` puts it back, all or nothing — each plugin's
 * state checked against its `stateSchema` (a state out of range refuses the slot, naming the plugin
 * and field), controllers (the sequencer) landing on the next bar or at once (`immediate`), a plugin
 * that refuses its state rolling the others back, parameters set last. Modules, parameters and
 * plugins the engine does not have are skipped and listed as notices.
 *
 * Save and load each run alone in the store's serial queue; the audio thread only receives messages.
 */
import { CodedError, type EngineView } from 'plugin-sdk';
import { PatternStore, checkSlot, serialize, type SlotInfo } from './pattern-store.ts';
import { PATTERN_INVALID, refuse } from './slot-common.ts';
import { SCHEMA_VERSION, SLOT_FORMAT, checkDocument, type SlotDocument } from './slot-schema.ts';

export interface SaveResult {
  slot: number;
  file: string;
  /** The name given to `/pattern/save <slot> <name>`, if any. */
  name?: string;
  bytes: number;
  params: number;
  plugins: string[];
}

export interface LoadResult {
  slot: number;
  file: string;
  /** When the controllers' (sequencer's) part lands. */
  sequencer: 'bar' | 'now';
  params: number;
  plugins: string[];
  notices: string[];
  migratedFrom?: string;
}

export class Patterns {
  constructor(
    private readonly engine: Pick<EngineView, 'capture' | 'restore' | 'legacyReaders' | 'version'>,
    readonly store: PatternStore,
  ) {}

  /** `/pattern/save <slot> [name]`. */
  save(slot: number, name?: string): Promise<SaveResult> {
    checkSlot(slot);
    return this.store.exclusive(async () => {
      const label = this.store.label(slot);
      const { snapshot, problems } = await this.engine.capture();
      if (problems.length > 0) {
        throw new CodedError(PATTERN_INVALID, `${label} was not saved: a plugin's state does not pass its own stateSchema:`, {
          details: problems.map((p) => `${label}: ${p}`),
          hint: 'The plugin is in a bad state (is it bypassed? /engine/plugins); /engine/plugin/reset <id> gives it a fresh instance.',
        });
      }
      const doc: SlotDocument = checkDocument(
        {
          format: SLOT_FORMAT,
          schema_version: SCHEMA_VERSION,
          chronus_version: this.engine.version,
          saved_at: new Date().toISOString(),
          slot,
          ...(name === undefined ? {} : { name }),
          ...snapshot,
        },
        label,
      );
      const { file, bytes } = await this.store.write(slot, serialize(doc));
      const params = Object.values(doc.params).reduce((n, m) => n + Object.keys(m).length, 0);
      return { slot, file, ...(name === undefined ? {} : { name }), bytes, params, plugins: Object.keys(doc.plugins) };
    });
  }

  /** `/pattern/load <slot> [immediate]`. */
  load(slot: number, immediate = false): Promise<LoadResult> {
    checkSlot(slot);
    return this.store.exclusive(async () => {
      const { doc, notices, migratedFrom } = await this.store.read(slot, this.engine.legacyReaders());
      const label = this.store.label(slot);
      const sequencer = immediate ? 'now' : 'bar';
      const outcome = await this.engine.restore({ params: doc.params, plugins: doc.plugins }, { controllersAt: sequencer });
      if (!outcome.ok) throw refuse(label, outcome.problems.map((p) => `${label}: ${p}`));
      return {
        slot,
        file: label,
        sequencer,
        params: outcome.params,
        plugins: outcome.plugins,
        notices: [...notices, ...outcome.notices],
        ...(migratedFrom ? { migratedFrom } : {}),
      };
    });
  }

  list(): Promise<SlotInfo[]> {
    return this.store.list();
  }
}

/** The patterns plugin's pieces for tests: its store over a plain folder, and a running engine's pattern service. */
import type { Engine } from '../../kernel/engine/engine.ts';
import { pluginFiles } from '../../kernel/plugins/control-files.ts';
import type { VersionResources } from '../../kernel/plugins/control-resources.ts';
import type { PatternsControl } from '../../plugins/patterns/control.ts';
import { PatternStore, type PatternStoreOptions } from '../../plugins/patterns/pattern-store.ts';
import type { Patterns } from '../../plugins/patterns/patterns.ts';

/** A pattern store on `dir` as the plugin has it (confined files; watches unused). */
export function patternStore(dir: string, options: PatternStoreOptions = {}): PatternStore {
  const version = { run: (fn: () => unknown) => void fn(), onClose: () => undefined } as unknown as VersionResources;
  return new PatternStore(pluginFiles(dir, new Set(), () => version), 'patterns', options);
}

/** The running patterns plugin's service of `engine`. */
export function patternsOf(engine: Pick<Engine, 'plugins'>): Patterns {
  const control = engine.plugins.controls.instance('patterns') as Partial<PatternsControl> | undefined;
  if (!control?.patterns) throw new Error('the patterns plugin is not running');
  return control.patterns;
}

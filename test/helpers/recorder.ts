/** How tests and benchmarks reach the recorder plugin's control half (plugins/recorder/control.ts) in an engine. */
import type { Engine } from '../../kernel/engine/engine.ts';
import type { RecorderControl } from '../../plugins/recorder/control.ts';
import type { Recorder } from '../../plugins/recorder/recorder.ts';

/** The running recorder of `engine`: the control half's `recorder` (throws when the plugin is not loaded). */
export function recorderOf(engine: Engine): Recorder {
  const control = engine.plugins.controls.instance('recorder') as Partial<RecorderControl> | undefined;
  if (!control?.recorder) throw new Error('the recorder plugin is not loaded (enable it with plugins.recorder.enabled)');
  return control.recorder;
}

/** What the control thread sends the audio thread to put one plugin version in the graph (structured-clone safe). */
import type { ParamSpec } from '../../plugin-sdk/types.ts';

export interface SlotSpec {
  /** Unique per loaded version; orders slots of equal stage and order. */
  slotId: number;
  pluginId: string;
  version: string;
  role: string;
  order: number;
  bus?: string;
  /** The bundle's text; '' in a message sent with `codeByReference`. */
  code: string;
  /**
   * The code is not in this message: the thread it goes to evaluated it already for this slot id (a
   * load prepared ahead, a version tried or primed in the standby). A thread that no longer holds it
   * answers CODE_NOT_HERE and is sent the code (kernel/host/worker-host.ts).
   */
  codeByReference?: true;
  filename: string;
  modules: string[];
  params: { module: number; name: string; index: number; spec: ParamSpec }[];
  gates: { module: number; index: number }[];
  /** Gated modules of this plugin that also receive the gates of `source` (another module id). */
  follows: { module: number; source: string }[];
  /**
   * A source with `sends: true`: the send buses it feeds (names, sorted), whose `send/<bus>` level
   * parameters are in `params`; absent or empty for every other plugin.
   */
  sends?: string[];
  config: Record<string, unknown>;
  /** The engine's voice count (config engine.numVoices): `ctx.numVoices`. */
  numVoices: number;
  /** Values the plugin's control half published (`ctx.audio.share`): what `ctx.shared(name)` returns. */
  shared?: Record<string, unknown>;
}

/** What the audio thread evaluates ahead of a version's load (kernel/audio/prepared-loads.ts). */
export type PrepareSpec = Pick<SlotSpec, 'slotId' | 'pluginId' | 'code' | 'filename'>;

/** A thread's answer to a spec sent by reference whose code it does not hold (it is sent again with the code). */
export const CODE_NOT_HERE = 'CODE_NOT_HERE';

/** `spec` as sent to a thread that holds its code already: every copy of a bundle is ≈ 20–110 KB on that thread's heap. */
export function byReference<S extends Pick<SlotSpec, 'code'>>(spec: S): S {
  return { ...spec, code: '', codeByReference: true };
}

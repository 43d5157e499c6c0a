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
  code: string;
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

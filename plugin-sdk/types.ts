/**
 * The plugin contract: everything a plugin author sees of the kernel.
 *
 * Threads: `create`, `command`, `getState`, `setState` and `dispose` run on the audio thread but
 * between blocks (allocation is fine there); `beginBlock`, `process` and `gate` run inside a block and
 * must follow the real-time rules (no allocation, no await, no I/O, no logging, nothing thrown).
 *
 * | hook / field  | kind; thread                        | after → before                                           |
 * | ------------- | ----------------------------------- | -------------------------------------------------------- |
 * | `create`      | definition; audio, between blocks   | a load, reload or reset → setState (a reload's state)    |
 * | `beginBlock`  | instance; block start               | the control ring taken → the buses zeroed, the spans     |
 * | `gate`        | instance; inside a block            | the span before its frame → the span after (no audio)    |
 * | `process`     | instance; inside a block, per span  | the plugins before it → the kernel checks every bus it   |
 * |               |                                     | obtained: a throw, NaN/∞ or beyond ±64 bypasses it alone |
 * | `getState`    | instance; between blocks            | → a pattern slot ('save'), a new version ('reload')      |
 * | `stateSchema` | definition; control thread (slots), | → setState gets the parsed value; a slot that fails is   |
 * |               | audio thread (reload, reset)        | refused naming the field; a reload state that fails is   |
 * |               |                                     | not handed over (the new version starts afresh)          |
 * | `setState`    | instance; between blocks            | create (reload) or a pattern load → a bypassed plugin    |
 * |               |                                     | gets a fresh instance that takes it: bypass cleared      |
 * | `shared`      | instance; between blocks            | the control half published a value → (no audio)          |
 * | `dispose`     | instance; between blocks            | replaced (after its fade) or unloaded →                  |
 */

import type { ZodType } from 'zod';
import type { LegacySlot } from './legacy.ts';

export const API_VERSION = 1;

/** One parameter, declared once as data. The kernel derives schema, OSC route, clamping, smoothing and persistence from it. */
export interface ParamSpec {
  /** `float` (default), `int` (rounded), or `enum` (an integer index into `values`). */
  readonly type?: 'float' | 'int' | 'enum';
  readonly min: number;
  readonly max: number;
  readonly default: number;
  readonly unit?: string;
  /** Smoothing time to within 1 % of a new target; 20 ms unless given. 0 steps at once. */
  readonly smoothingMs?: number;
  readonly description?: string;
  /** Labels of an enum, index = value. */
  readonly values?: readonly string[];
  /** A retired parameter: still accepted, hidden from docs. Ids are never reused. */
  readonly deprecated?: boolean;
}

export type ParamTable = Readonly<Record<string, ParamSpec>>;

/** A kernel-owned, smoothed parameter of one module. Read it in `process`; never write it. */
export interface Param {
  readonly spec: ParamSpec;
  /** The value now (smoothed, modulation applied, clamped). */
  readonly value: number;
  /** The value it is moving towards. */
  readonly target: number;
  /** True while the value is still moving; when false `value` is constant for the rest of the block. */
  readonly moving: boolean;
  /** Advance one sample and return the new value. Call it per sample only while `moving`. */
  next(): number;
  /**
   * Write the value of each sample of [start, end) into `out`, advancing as `next()` would. The
   * cheapest way to read a moving parameter per sample (no call per sample).
   */
  fill(out: Float32Array | Float64Array, start: number, end: number): void;
  /** Advance `n` samples and return the value after them (a chunked reader's per-chunk value). */
  advance(n: number): number;
}

/** A stereo bus: two preallocated channel buffers of `maxBlock` frames, zeroed by the kernel at each block start. */
export interface Bus {
  readonly l: Float32Array;
  readonly r: Float32Array;
}

/**
 * Buses every plugin can reach. `main` and `master` are the kernel's; every `send:<bus>` is declared
 * by a send plugin (its manifest's `bus`) and exists while that plugin is loaded; `tap:<name>` buses
 * are opened by whoever reads them (the recorder's stems). Sources add into `main` and the send
 * buses (`ctx.sends`); effects work in place on their bus.
 */
export type BusName = 'main' | 'master' | `send:${string}` | `tap:${string}`;

/**
 * One send bus as a source that takes sends (`sends: true`) sees it: the bus, and the level of each
 * of its modules into it — the parameter `send/<name>` (0–1, default 0, smoothed) that the kernel
 * generates on every module for every declared send bus.
 */
export interface Send {
  /** The bus name the send plugin declared (`reverb`: the bus `send:reverb`, the parameter `send/reverb`). */
  readonly name: string;
  /** The bus to add into (a source adds `level × signal`). */
  readonly bus: Bus;
  /** The level parameter `send/<name>` of module `module` (index or id). Call in `create`, keep the object. */
  level(module: number | string): Param;
}

/**
 * An audio tap: a lock-free ring the audio thread writes frames into and the control thread reads
 * (recorder, meters). `write` never blocks: when the reader has fallen behind it drops the frames,
 * counts them, and returns false.
 */
export interface TapWriter {
  readonly channels: number;
  /** Frames that fit now. */
  readonly space: number;
  /** Append frames [start, end) of each channel array (preallocate the array of channels in create). */
  write(channels: readonly Float32Array[], start: number, end: number): boolean;
  /** Int32 words shared with the reader; words 4..15 are free for the plugin's own flags (use Atomics). */
  readonly header: Int32Array;
}

export interface PluginLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What `create` receives. */
export interface PluginContext {
  readonly sampleRate: number;
  /** The largest `end - start` `process` will ever be asked for. */
  readonly maxBlock: number;
  /** The module ids this instance serves, in order; `module` arguments are indices into it. */
  readonly modules: readonly string[];
  /** This plugin's config section (`plugins.<id>` in the config, minus `enabled`). */
  readonly config: Readonly<Record<string, unknown>>;
  /** The engine's voice count (config `engine.numVoices`): what a manifest's `count: "config:numVoices"` expands to. */
  readonly numVoices: number;
  /** The kernel-owned parameter `name` of module `module` (index or id). Call in `create`, keep the object. */
  param(module: number | string, name: string): Param;
  /** A bus to read or write. The kernel checks every bus an instance obtained (here or with `findBus`) after each of its calls. */
  bus(name: BusName): Bus;
  /** The bus `name` if some plugin opened it with `bus`, else undefined; never creates one (voices fill `tap:voiceN` only when the recorder asked for stems). */
  findBus(name: BusName): Bus | undefined;
  /**
   * The bus the manifest's `bus` field names: a send's `send:<bus>` (what it reads), an effect's
   * `main` or `master` (what it works on in place); null for the other roles. A send that reads
   * `ownBus` keeps working in a renamed copy of its folder with another `bus`.
   */
  readonly ownBus: Bus | null;
  /**
   * For a source whose definition says `sends: true`: every send bus the loaded send plugins
   * declare, sorted by name, each with its per-module level parameters; empty for other plugins.
   * Fixed for the life of the instance — when a send plugin comes, goes or is disabled, the source
   * is reloaded (state handed over, crossfaded) and its new instance gets the new list. Read it in
   * `create` and keep the objects: in `process`, index the array (no iterator, no allocation).
   */
  readonly sends: readonly Send[];
  /**
   * `count` level meters the control thread reads (e.g. one peak per voice for `/viz/levels`): raise
   * each to the block's peak (`m[i] = Math.max(m[i], peak)`); the reader resets them when it reads.
   * Call in `create`.
   */
  meters(count: number): Float32Array;
  /** A tap ring named `name` (unique per engine) that the control side can read; call in `create`. */
  tap(name: string, channels: number, capacityFrames: number): TapWriter;
  /** Schedule an event at an absolute frame (controllers use this to play other modules sample-accurately). */
  readonly events: EventScheduler;
  readonly log: PluginLogger;
  /**
   * A value the plugin's control half published with `ctx.audio.share(name, value)` (plugin-sdk/control.ts),
   * or undefined: typically a SharedArrayBuffer or a typed array over one (sample data, tables). Read
   * it in `create`; later changes arrive through the instance's `shared` hook.
   */
  shared(name: string): unknown;
}

/** Sample-accurate events into the kernel's audio-side queue; safe to call from `process` (no allocation). */
export interface EventScheduler {
  /** Resolve `/mod/<module>/<param>` to a parameter handle for `setParam`; -1 if unknown. Call between blocks. */
  paramIndex(address: string): number;
  /** Resolve a module id to a gate handle for `gate`; -1 if it has no gate. Call between blocks. */
  gateIndex(module: string): number;
  setParam(frame: number, param: number, value: number): void;
  gate(frame: number, gate: number, value: number): void;
  /** Set the modulation offset (in the parameter's units) added to a parameter's base value; 0 removes it. */
  modulate(frame: number, param: number, offset: number): void;
  /**
   * `modulate(frame, param, offsets[at])` without passing a fractional number: a call into the kernel
   * crosses realms, and V8 boxes a fractional argument (16 bytes) on every such call. A controller that
   * modulates every block uses this form to stay allocation-free.
   */
  modulateFrom(frame: number, param: number, offsets: Float64Array, at: number): void;
  /** The frame of the first sample of the block being rendered. */
  readonly blockStart: number;
}

/** Why `getState` is called: `'save'` (patterns: plain bounded JSON) or `'reload'` (hot reload: everything). */
export type StatePurpose = 'save' | 'reload';

export interface PluginInstance {
  /** Render frames [start, end) of the current block into the buses. */
  process(start: number, end: number): void;
  /** Called at the very start of each block, before any `process` (controllers schedule events here). */
  beginBlock?(blockStart: number, frames: number): void;
  /** A gate change on module `module` at the current position; value > 0 opens, 0 closes. */
  gate?(module: number, value: number): void;
  /** A plugin-specific command from one of its OSC routes or its control half; the return value is sent back as the reply. */
  command?(name: string, args: unknown): unknown;
  /** Between blocks: the control half published a new value under `name` (see `PluginContext.shared`). Keep the reference; do not copy. */
  shared?(name: string, value: unknown): void;
  /**
   * Versioned state. `purpose` says who asks:
   * - `'save'` (or undefined): patterns and status — plain, bounded JSON (see plugin-sdk/
   *   state-json.ts JSON_LIMITS); leave audio tails out (a slot must stay small and fast to write);
   * - `'reload'`: a hot reload hands it straight to the new version's `setState` (structured-cloned
   *   at most) — may carry typed arrays such as delay lines and reverb buffers, so tails ring on.
   */
  getState?(purpose?: StatePurpose): unknown;
  /**
   * Restore state; must tolerate missing or older fields, and must never let a non-finite or
   * out-of-bounds value into the DSP (ignore it, or ignore the whole state). May throw to refuse.
   */
  setState?(state: unknown): void;
  dispose?(): void;
}

/**
 * An extra OSC route provided by a plugin (e.g. `/seq/add`). The kernel checks the argument list with
 * `args` (a zod schema over the array of OSC arguments), then calls the instance's
 * `command(address, parsedArgs)` between blocks; a returned value other than undefined is sent to
 * the sender as JSON at `reply`.
 */
export interface PluginRoute {
  readonly address: string;
  readonly description: string;
  readonly args: ZodType;
  readonly reply?: string;
  /** Argument names for `/engine/schema` (`["track_id", "[notes]"]`: brackets mark optional ones). */
  readonly usage?: readonly string[];
}

export interface PluginDefinition {
  readonly params: ParamTable;
  /** Modules that accept `/gate/<module>`. */
  readonly gates?: boolean;
  /**
   * A source that feeds the send buses: the kernel adds a parameter `send/<bus>` (0–1, default 0,
   * "Send level to the <bus> bus") to each of its modules for every bus a loaded send plugin
   * declares, and hands them over in `ctx.sends`. Its own table must not name `send/<bus>` itself.
   * Only for role `source`.
   */
  readonly sends?: boolean;
  readonly routes?: readonly PluginRoute[];
  /**
   * Per-module parameter defaults that differ from the table's (e.g. `{ lfo2: { rate: 4 } }`): the
   * value a module starts at and the default `/engine/schema` shows for it. Each must name a module
   * of the manifest and a parameter of the table, and lie within the parameter's range.
   */
  readonly moduleDefaults?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Gated modules of this plugin that also receive another module's gates, e.g. `{ acid1: 'voice2' }`:
   * every gate of voice2 (from OSC or the sequencer) reaches acid1 at the same sample. Such a module
   * gets no `/gate/<module>` route of its own: its gate address is an alias of the one it follows.
   */
  readonly gateFollows?: Readonly<Record<string, string>>;
  /**
   * The state `setState` takes, as a zod schema (`z` from 'plugin-sdk'): required of every plugin
   * with getState/setState. It must accept what `getState` returns for both purposes ('save' plain
   * JSON, 'reload' possibly typed arrays) and bound every number (finite, magnitudes such as
   * `MAX_STATE_SAMPLE` for audio held in state). A pattern load checks each plugin's state against it
   * before anything changes and refuses the slot naming the plugin and field; transforms (clamping)
   * are applied and the parsed value is what `setState` gets. A hot reload hands the old version's
   * state over only if the new version's schema accepts it; `/engine/plugin/reset` keeps the saved
   * state only if it passes.
   */
  readonly stateSchema?: ZodType;
  /** What it reads of the old engine's slot files: its old module sections and fields, an old top-level section (plugin-sdk/legacy.ts). */
  readonly legacy?: LegacySlot;
  create(ctx: PluginContext): PluginInstance;
}

/**
 * The largest magnitude of audio a plugin's state should hold (delay lines, filter memories): the
 * kernel calls a bus beyond ±64 a runaway, and internal states get headroom above that. A state
 * beyond it is corrupt, not a sound.
 */
export const MAX_STATE_SAMPLE = 1024;

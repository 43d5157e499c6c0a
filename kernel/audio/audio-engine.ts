/**
 * The audio graph (audio thread): plugin slots in signal order, buses, parameters, gates and the
 * timed event queue. `renderBlock` is the real-time path; every other method runs between blocks.
 *
 * Signal order: controllers → modulators → sources (add into `main` and the send buses) →
 * `main` effects → main is mixed into `master` → sends (read their send bus, add into `master`) →
 * `master` effects → sinks (read `master`).
 *
 * Buses: `main` and `master` are made here. Every other bus is made when a plugin first asks for it:
 * a send plugin's `send:<bus>` as it loads (its `ctx.ownBus`, the bus its manifest declares) or as a
 * source that feeds it does (`ctx.sends`); a tap when its reader opens it. No bus name of a plugin
 * is known here.
 */
import type { Bus, BusName, Param, PluginContext, PluginDefinition, PluginInstance, StatePurpose } from '../../plugin-sdk/types.ts';
import { ControlRing, type RingRecord } from './control-ring.ts';
import { AUDIO_SNAPSHOT_VERSION, type AudioSnapshot } from './audio-snapshot.ts';
import { EventKind, JournalKind, ReportKind } from './event-kinds.ts';
import { EventQueue } from './event-queue.ts';
import { ParamBank } from './param.ts';
import { SharedState, Slot } from './shared-state.ts';
import type { SlotSpec } from './slot-spec.ts';
import { evaluatePlugin } from '../plugins/plugin-runtime.ts';
import { sendList } from './send-list.ts';
import { TapRing } from './tap-ring.ts';
import { busBits, saneBus, type BusBits } from './bus-check.ts';
import { addMeters, BusMemory, clipSample } from './bus-memory.ts';

/** A tap opened by a plugin, as the control thread receives it. */
export interface TapInfo {
  name: string;
  channels: number;
  buffer: SharedArrayBuffer;
}

/** What loading a plugin version opened that the control thread reads. */
export interface LoadResult {
  taps: TapInfo[];
  /** The plugin's level meters (Float32 values on shared memory), if it asked for any. */
  meters: SharedArrayBuffer | null;
  /** The first frame the new version renders (its block starts there). */
  frame: number;
}

export const STAGES = ['controller', 'modulator', 'source', 'effect:main', 'send', 'effect:master', 'sink'] as const;

/** The bus a plugin's manifest names (`ctx.ownBus`): a send's `send:<bus>`, an effect's `main` or `master`; null otherwise. */
function ownBusName(spec: SlotSpec): string | null {
  if (spec.role === 'send' && spec.bus !== undefined) return `send:${spec.bus}`;
  if (spec.role === 'effect') return spec.bus === 'master' ? 'master' : 'main';
  return null;
}

export function stageOf(role: string, bus: string | undefined): number {
  if (role === 'effect') return bus === 'master' ? 5 : 3;
  return STAGES.indexOf(role as (typeof STAGES)[number]);
}

interface PluginSlot {
  spec: SlotSpec;
  /** What the instance was made from (the warm-up makes scratch instances of it: same code, same JIT feedback). */
  definition: PluginDefinition;
  stage: number;
  instance: PluginInstance;
  /** The buses this instance obtained (`ctx.bus`, `ctx.findBus`): the only ones it can write, checked after each of its calls. */
  buses: Bus[];
  /** The integer views of `buses[i]` at i (bus-check.ts), caught up as `buses` grows: no Map lookup per check. */
  bits: (BusBits | undefined)[];
  /** What its `create` opened (taps, meters): a reset instance writes into the same ones. */
  opened: Opened;
  /** Set when the plugin threw or made non-finite audio: skipped until a new version, a state or a reset replaces the instance. */
  bypassed: boolean;
  faults: number;
  lastError: string;
  /** The version this one replaced: faded out over the first `fadeLength` frames, restored if this one fails while watched. */
  previous: PluginSlot | null;
  fadePos: number;
  fadeLength: number;
  /** Until this frame a fault rolls back to `previous` instead of bypassing. */
  watchUntil: number;
}

/** The taps and meters an instance opened, kept so that a reset instance reuses them (the control thread holds their buffers). */
interface Opened {
  taps: Map<string, TapRing>;
  meters: Float32Array | null;
}

/** Crossfade between an old and a new version of a plugin. */
const CROSSFADE_MS = 10;
/** `/engine/stop` fades the output out (and `/engine/start` back in) over this long: no click. */
export const OUTPUT_FADE_MS = 5;
/** How long a new version is watched after a swap (a fault rolls back to the old one). */
const WATCH_MS = 3000;
const STAGE_SOURCE = 2;
const STAGE_SEND = 4;

/** What a plugin said through `ctx.log`, on its way to the control thread's log. */
export interface PluginLogEntry {
  pluginId: string;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** Lines kept for the control thread between two collections; more are counted, not kept. */
const PLUGIN_LOG_CAP = 64;
const PLUGIN_LOG_CHARS = 500;

export class AudioEngine {
  readonly bank: ParamBank;
  readonly shared: SharedState;
  readonly queue = new EventQueue();
  /** Absolute frame of the first sample of the next block. */
  frame = 0;
  /** Reload crossfades: equal-power instead of linear (config engine.reloadCrossfade). */
  equalPowerFades = false;
  /** What leaves the engine, copied for the control thread's spectrum (dropped when it lags). */
  outputTap: TapRing | null = null;
  /** Every control-ring record taken, reported back as taken (JournalKind), or null. */
  journal: ControlRing | null = null;
  private readonly outputChannels: Float32Array[] = [];
  private readonly buses = new Map<string, Bus>();
  /** Each bus's views for the check after a plugin's call (bus-check.ts). */
  private readonly bits = new Map<Bus, BusBits>();
  /** Where the buses live while there is room: the check reads them four samples at a time. */
  private readonly busMemory: BusMemory;
  /** The same buses as an array, so the block path iterates without an iterator object. */
  private busList: Bus[] = [];
  /** Per bus: what it held before a crossfading slot ran, and what the old version made of it. */
  private busSaved: Bus[] = [];
  private busOld: Bus[] = [];
  private busChanges = 0;
  /** Replaced versions waiting to be disposed between blocks. */
  private retired: PluginSlot[] = [];
  /** Last errors of rolled-back versions, by slot id (bounded). */
  private readonly retiredErrors = new Map<number, string>();
  private readonly main: Bus;
  private readonly master: Bus;
  /** Their views and places in the bus memory. */
  private readonly mainBits: BusBits;
  private readonly masterBits: BusBits;
  /** The output's peaks (L, R) and sum of squares of the block being written. */
  private readonly meters = new Float64Array(3);
  private slots: PluginSlot[] = [];
  private gateSlot: (PluginSlot | undefined)[] = [];
  private gateModule = new Int32Array(0);
  private gateOpen = new Uint8Array(0);
  /** Per gate index: the gate that follows it (-1: none), rebuilt whenever a plugin comes or goes. */
  private gateFollower = new Int32Array(0);
  private openGates = 0;
  /** `/engine/stop` until `/engine/start` (EventKind.OutputStopped): gates do not open and the output fades to silence. */
  private outputStopped = false;
  /** The output's gain now (0 … 1), moving by `outputStep` a sample towards 0 (stopped) or 1. */
  private outputGain = 1;
  private readonly outputStep: number;
  private readonly paramAddresses = new Map<string, number>();
  private readonly gateAddresses = new Map<string, number>();
  private readonly record: RingRecord = { kind: 0, frame: 0, target: 0, value: 0 };
  /** Events before this frame are due in the block being rendered (between blocks: in the next one) and may use the queue's reserve. */
  private dueBefore: number;
  private readonly scheduler;
  /** `ctx.log` lines not yet collected by the control thread (`takeLog`); bounded. */
  private pluginLog: PluginLogEntry[] = [];
  private pluginLogDropped = 0;
  /**
   * Where this engine says whose code runs (Slot.RunningSlot / CallSeq): its own figures, or the live
   * engine's for the warm-up's scratch graph, so the watchdog sees a plugin that hangs anywhere.
   */
  watch: Float64Array;

  constructor(
    readonly sampleRate: number,
    readonly maxBlock: number,
    smoothingMs: number,
    readonly ring: ControlRing,
    readonly reports: ControlRing,
    shared?: SharedState,
  ) {
    this.bank = new ParamBank(sampleRate, smoothingMs);
    this.busMemory = new BusMemory(maxBlock);
    this.shared = shared ?? new SharedState();
    this.shared.values[Slot.SampleRate] = sampleRate;
    this.watch = this.shared.values;
    this.shared.values[Slot.QueueLimit] = this.queue.limit;
    this.dueBefore = maxBlock;
    this.outputStep = 1 / Math.max(1, Math.round((OUTPUT_FADE_MS / 1000) * sampleRate));
    this.main = this.bus('main');
    this.master = this.bus('master');
    this.mainBits = this.bits.get(this.main) as BusBits;
    this.masterBits = this.bits.get(this.master) as BusBits;
    const engine = this;
    this.scheduler = {
      paramIndex: (address: string) => engine.paramAddresses.get(address) ?? -1,
      gateIndex: (module: string) => engine.gateAddresses.get(module) ?? -1,
      setParam: (frame: number, param: number, value: number) => {
        engine.schedule(frame, EventKind.SetParam, param, value);
      },
      gate: (frame: number, gate: number, value: number) => {
        engine.schedule(frame, EventKind.Gate, gate, value);
      },
      modulate: (frame: number, param: number, offset: number) => {
        engine.schedule(frame, EventKind.Modulate, param, offset);
      },
      modulateFrom: (frame: number, param: number, offsets: Float64Array, at: number) => {
        engine.schedule(frame, EventKind.Modulate, param, offsets[at]);
      },
      get blockStart() {
        return engine.frame;
      },
    };
  }

  /** The buses whose names start with `prefix` (e.g. every `send:` bus), in the order they were made. */
  busesNamed(prefix: string): Bus[] {
    return [...this.buses].filter(([name]) => name.startsWith(prefix)).map(([, b]) => b);
  }

  /** Changes whenever a bus is made or dropped (`busesNamed` then says something else). */
  get busVersion(): number {
    return this.busChanges;
  }

  /** Whether the bus `name` exists now (made by a plugin in the graph, not yet dropped). */
  hasBus(name: string): boolean {
    return this.buses.has(name);
  }

  bus(name: BusName | string): Bus {
    let b = this.buses.get(name);
    if (!b) {
      const inMemory = this.busMemory.take();
      b = inMemory?.bus ?? { l: new Float32Array(this.maxBlock), r: new Float32Array(this.maxBlock) };
      this.buses.set(name, b);
      this.bits.set(b, inMemory === null ? busBits(b) : busBits(b, inMemory.lp, inMemory.rp));
      this.busList = [...this.busList, b];
      this.busSaved = [...this.busSaved, { l: new Float32Array(this.maxBlock), r: new Float32Array(this.maxBlock) }];
      this.busOld = [...this.busOld, { l: new Float32Array(this.maxBlock), r: new Float32Array(this.maxBlock) }];
      this.busChanges++;
    }
    return b;
  }

  /**
   * Between blocks: drop the buses that no plugin in the graph holds any more (a send plugin and the
   * source versions that fed it are gone), so they are no longer zeroed, crossfaded or found.
   * `main` and `master` stay.
   */
  private dropUnheldBuses(): void {
    const held = new Set<Bus>([this.main, this.master]);
    for (const s of this.slots) {
      for (const b of s.buses) held.add(b);
      if (s.previous !== null) for (const b of s.previous.buses) held.add(b);
    }
    if (this.busList.every((b) => held.has(b))) return;
    const keep = this.busList.map((b) => held.has(b));
    for (const [name, b] of this.buses) {
      if (held.has(b)) continue;
      this.buses.delete(name);
      const bits = this.bits.get(b);
      if (bits !== undefined && bits.lp >= 0) this.busMemory.give(bits.lp, bits.rp);
      this.bits.delete(b);
    }
    this.busList = this.busList.filter((_, i) => keep[i]);
    this.busSaved = this.busSaved.filter((_, i) => keep[i]);
    this.busOld = this.busOld.filter((_, i) => keep[i]);
    this.busChanges++;
  }

  // ───────────────────────── between blocks ─────────────────────────

  /**
   * Instantiate a plugin version and put it in the graph, replacing any slot of the same plugin.
   * Returns the taps it opened (their buffers are shared with the control thread).
   */
  load(spec: SlotSpec, definition: PluginDefinition = evaluatePlugin(spec.code, spec.filename)): LoadResult {
    for (const p of spec.params) this.bank.define(p.index, p.spec);
    for (const p of spec.params) this.paramAddresses.set(`/mod/${spec.modules[p.module]}/${p.name}`, p.index);
    const result: LoadResult = { taps: [], meters: null, frame: this.frame };
    const made = this.instantiate(spec, definition, result, null);
    const old = this.slots.find((s) => s.spec.pluginId === spec.pluginId);
    if (old !== undefined && made.instance.setState) {
      // The running version's state, if the new version's stateSchema accepts it; otherwise it starts afresh.
      const state = acceptedState(definition, stateOf(old, 'reload'));
      if (state !== undefined) made.instance.setState(state);
    }
    this.install(spec, definition, made, old, { watch: true, fade: true });
    return result;
  }

  /**
   * `/engine/plugin/reset`: a fresh instance of the plugin's current version takes over (bypassed or
   * not), with the parameters as they are and what a pattern would save of the old instance, if its
   * stateSchema accepts that; audio in flight starts from silence. It writes into the same taps and
   * meters. Returns false when no such plugin is in the graph.
   */
  resetPlugin(pluginId: string): boolean {
    const old = this.slots.find((s) => s.spec.pluginId === pluginId);
    if (old === undefined) return false;
    let made = this.instantiate(old.spec, old.definition, null, old.opened);
    const state = acceptedState(old.definition, stateOf(old, 'save'));
    if (state !== undefined && made.instance.setState) {
      try {
        made.instance.setState(state);
      } catch {
        // The saved part was refused after all: start from the initial state.
        disposeQuietly(made.instance);
        made = this.instantiate(old.spec, old.definition, null, old.opened);
      }
    }
    // No crossfade into taps it shares with the old instance (both would write the same frames).
    this.install(old.spec, old.definition, made, old, { watch: false, fade: old.opened.taps.size === 0 });
    return true;
  }

  /** A new instance of `definition` and the buses it obtained. `reuse`: taps and meters of the instance it replaces in place. */
  private instantiate(spec: SlotSpec, definition: PluginDefinition, result: LoadResult | null, reuse: Opened | null): { instance: PluginInstance; buses: Bus[]; opened: Opened } {
    const buses: Bus[] = [];
    const opened: Opened = { taps: new Map(), meters: null };
    const instance = definition.create(this.contextFor(spec, result ?? { taps: [], meters: null, frame: this.frame }, buses, opened, reuse));
    return { instance, buses, opened };
  }

  /**
   * Put a made instance in the graph in place of `old`: crossfaded if `fade` and `old` is playing,
   * watched (a fault rolls back to `old`) if `watch` (a reload).
   */
  private install(
    spec: SlotSpec,
    definition: PluginDefinition,
    made: { instance: PluginInstance; buses: Bus[]; opened: Opened },
    old: PluginSlot | undefined,
    { watch, fade }: { watch: boolean; fade: boolean },
  ): void {
    const stage = stageOf(spec.role, spec.bus);
    const fades = fade && old !== undefined && !old.bypassed && stage >= STAGE_SOURCE && stage < 6;
    const slot: PluginSlot = {
      spec,
      definition,
      stage,
      instance: made.instance,
      buses: made.buses,
      bits: made.buses.map((b) => this.bits.get(b)),
      opened: made.opened,
      bypassed: false,
      faults: old !== undefined && old.spec.slotId === spec.slotId ? old.faults : 0,
      lastError: old !== undefined && old.spec.slotId === spec.slotId ? old.lastError : '',
      previous: old ?? null,
      fadePos: 0,
      fadeLength: fades ? Math.round((CROSSFADE_MS / 1000) * this.sampleRate) : 0,
      watchUntil: old && watch ? this.frame + Math.round((WATCH_MS / 1000) * this.sampleRate) : 0,
    };
    if (old?.previous) {
      // A version replaced before its watch ended is not kept: only the one playing now is the fallback.
      this.retired.push(old.previous);
      old.previous = null;
    }
    this.slots = this.slots.filter((s) => s !== old).concat(slot);
    this.slots.sort((a, b) => a.stage - b.stage || a.spec.order - b.spec.order || a.spec.slotId - b.spec.slotId);
    this.defineGates(slot);
    this.linkFollowers();
  }

  /**
   * A plugin version's context. Built in its own function on purpose: closures share their
   * function's scope in V8, and a context made inside `load` would keep the replaced version (and,
   * through it, every version before) alive for as long as the new one lives.
   * Every bus handed out is remembered in `buses` (what the kernel checks after the instance's calls).
   */
  private contextFor(spec: SlotSpec, result: LoadResult, buses: Bus[], opened: Opened, reuse: Opened | null): PluginContext {
    const byName = new Map(spec.params.map((p) => [`${p.module}/${p.name}`, p.index]));
    const bank = this.bank;
    const known = this.buses;
    const remember = (b: Bus): Bus => {
      // Rare after create (a bus found later, e.g. a tap opened by a plugin loaded after this one).
      if (!buses.includes(b)) buses.push(b);
      return b;
    };
    const param = (module: number | string, name: string): Param => {
      const m = typeof module === 'number' ? module : spec.modules.indexOf(module);
      const index = byName.get(`${m}/${name}`);
      const p = index === undefined ? undefined : bank.get(index);
      if (!p) throw new Error(`${spec.pluginId}: no parameter '${name}' on module ${String(module)}`);
      return p;
    };
    const bus = (name: BusName): Bus => remember(this.bus(name));
    const own = ownBusName(spec);
    return {
      sampleRate: this.sampleRate,
      maxBlock: this.maxBlock,
      modules: spec.modules,
      config: spec.config,
      numVoices: spec.numVoices,
      param,
      bus,
      ownBus: own === null ? null : bus(own as BusName),
      sends: sendList(spec, bus, param),
      findBus: (name) => {
        const b = known.get(name);
        return b === undefined ? undefined : remember(b);
      },
      meters: (count) => {
        const kept = reuse?.meters;
        const meters = kept && kept.length === count ? kept : new Float32Array(new SharedArrayBuffer(4 * count));
        opened.meters = meters;
        result.meters = meters.buffer as SharedArrayBuffer;
        return meters;
      },
      tap: (name, channels, capacityFrames) => {
        const kept = reuse?.taps.get(name);
        const ring = kept && kept.channels === channels ? kept : new TapRing(channels, capacityFrames);
        opened.taps.set(name, ring);
        result.taps.push({ name, channels, buffer: ring.buffer });
        return ring;
      },
      events: this.scheduler,
      log: this.loggerFor(spec.pluginId),
      shared: (name) => spec.shared?.[name],
    };
  }

  /** A plugin's `ctx.log`: lines kept (bounded) for the control thread, never printed here. */
  private loggerFor(pluginId: string): PluginContext['log'] {
    const say = (level: PluginLogEntry['level']) => (message: string) => {
      if (this.pluginLog.length >= PLUGIN_LOG_CAP) this.pluginLogDropped++;
      else this.pluginLog.push({ pluginId, level, text: String(message).slice(0, PLUGIN_LOG_CHARS) });
      this.shared.values[Slot.PluginLogPending] = this.pluginLog.length + this.pluginLogDropped;
    };
    return { info: say('info'), warn: say('warn'), error: say('error') };
  }

  /** The `ctx.log` lines since the last call, and how many did not fit. */
  takeLog(): { entries: PluginLogEntry[]; dropped: number } {
    const taken = { entries: this.pluginLog, dropped: this.pluginLogDropped };
    this.pluginLog = [];
    this.pluginLogDropped = 0;
    this.shared.values[Slot.PluginLogPending] = 0;
    return taken;
  }

  unload(pluginId: string): void {
    const old = this.slots.find((s) => s.spec.pluginId === pluginId);
    if (!old) return;
    for (let g = 0; g < this.gateSlot.length; g++) {
      if (this.gateSlot[g] === old) {
        if (this.gateOpen[g]) this.openGates--;
        this.gateSlot[g] = undefined;
        this.gateOpen[g] = 0;
      }
    }
    for (const m of old.spec.modules) this.gateAddresses.delete(m);
    for (const p of old.spec.params) this.paramAddresses.delete(`/mod/${old.spec.modules[p.module]}/${p.name}`);
    this.slots = this.slots.filter((s) => s !== old);
    this.linkFollowers();
    if (old.previous) this.retired.push(old.previous);
    this.between(old.spec.slotId, () => old.instance.dispose?.());
    this.dropUnheldBuses();
  }

  /**
   * Between blocks: dispose versions that were replaced and whose watch is over. The backends call
   * this after rendering (never from inside a block).
   */
  housekeeping(): void {
    // Runs on the audio thread after every render: an index loop, no iterator object.
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (s.previous && this.frame >= s.watchUntil && s.fadePos >= s.fadeLength) {
        this.retired.push(s.previous);
        s.previous = null;
      }
    }
    if (this.retired.length === 0) return;
    while (this.retired.length > 0) {
      const old = this.retired.pop() as PluginSlot;
      if (old.lastError) {
        this.retiredErrors.set(old.spec.slotId, old.lastError);
        if (this.retiredErrors.size > 32) this.retiredErrors.delete(this.retiredErrors.keys().next().value as number);
      }
      this.enter(old.spec.slotId, 1);
      disposeQuietly(old.instance);
      this.leave();
    }
    this.dropUnheldBuses();
  }

  private defineGates(slot: PluginSlot): void {
    const max = slot.spec.gates.reduce((m, g) => Math.max(m, g.index + 1), this.gateSlot.length);
    if (max > this.gateModule.length) {
      const modules = new Int32Array(max);
      modules.set(this.gateModule);
      const open = new Uint8Array(max);
      open.set(this.gateOpen);
      this.gateModule = modules;
      this.gateOpen = open;
    }
    for (let g = 0; g < this.gateSlot.length; g++) if (this.gateSlot[g]?.spec.pluginId === slot.spec.pluginId) this.gateSlot[g] = slot;
    for (const g of slot.spec.gates) {
      this.gateSlot[g.index] = slot;
      this.gateModule[g.index] = g.module;
      this.gateAddresses.set(slot.spec.modules[g.module], g.index);
    }
  }

  private linkFollowers(): void {
    const followers = new Int32Array(this.gateModule.length).fill(-1);
    for (const s of this.slots) {
      for (const f of s.spec.follows ?? []) {
        const source = this.gateAddresses.get(f.source);
        const follower = this.gateAddresses.get(s.spec.modules[f.module]);
        if (source !== undefined && follower !== undefined && source !== follower) followers[source] = follower;
      }
    }
    this.gateFollower = followers;
  }

  command(pluginId: string, name: string, args: unknown): unknown {
    const slot = this.slots.find((s) => s.spec.pluginId === pluginId);
    if (!slot?.instance.command) throw new Error(`plugin '${pluginId}' takes no command '${name}'`);
    return slot.instance.command(name, args);
  }

  /**
   * The plugin's control half published `value` under `name`: kept in the spec (instances made later
   * read it in create) and handed to the running instance's `shared` hook.
   */
  share(pluginId: string, name: string, value: unknown): void {
    const slot = this.slots.find((s) => s.spec.pluginId === pluginId);
    if (!slot) return;
    slot.spec.shared = { ...slot.spec.shared, [name]: value };
    this.between(slot.spec.slotId, () => slot.instance.shared?.(name, value));
  }

  /** An engine-wide command (`/engine/stop`, `/engine/start`) to every plugin that takes commands; failures are ignored. */
  broadcast(name: string): void {
    for (const s of this.slots) {
      this.enter(s.spec.slotId, 1);
      try {
        s.instance.command?.(name, []);
      } catch {
        // A plugin that does not know the command has nothing to do for it.
      }
      this.leave();
    }
  }

  /** The slot id of plugin `pluginId` in the graph, or 0. */
  slotIdOf(pluginId: string): number {
    return this.slots.find((s) => s.spec.pluginId === pluginId)?.spec.slotId ?? 0;
  }

  /** Runs `call` as plugin `slotId`'s code between blocks (create, state, a command), for the watchdog. */
  between<T>(slotId: number, call: () => T): T {
    this.enter(slotId, 1);
    try {
      return call();
    } finally {
      this.leave();
    }
  }

  /** Plugin `slotId`'s code runs from now on (`between`: 1 for a call between blocks). */
  private enter(slotId: number, between: number): void {
    const w = this.watch;
    w[Slot.RunningSlot] = slotId;
    w[Slot.RunningBetweenBlocks] = between;
    w[Slot.CallSeq]++;
  }

  private leave(): void {
    this.watch[Slot.RunningSlot] = 0;
  }

  /**
   * One plugin's process() over [start, end), then the check of the buses it holds: a throw or bad
   * audio is a fault (its bad ranges silenced). False when it faulted.
   */
  private runChecked(slot: PluginSlot, start: number, end: number): boolean {
    try {
      this.run(slot, start, end);
    } catch (e) {
      this.clean(slot, start, end);
      this.fault(slot, e);
      return false;
    }
    if (this.clean(slot, start, end)) return true;
    this.fault(slot, undefined);
    return false;
  }

  /** One plugin's process() over [start, end), marked for the watchdog (throws what it throws). */
  private run(slot: PluginSlot, start: number, end: number): void {
    this.enter(slot.spec.slotId, 0);
    try {
      slot.instance.process(start, end);
    } finally {
      this.leave();
    }
  }

  getState(pluginId: string, purpose?: StatePurpose): unknown {
    return this.slots.find((s) => s.spec.pluginId === pluginId)?.instance.getState?.(purpose);
  }

  /**
   * Hand a plugin a state (pattern loads; the control thread has checked it against the plugin's
   * stateSchema). A bypassed plugin's instance is not trusted: a fresh one (same version, same taps)
   * takes the state and, if it accepts it, takes over — a successful setState clears the bypass.
   */
  setState(pluginId: string, state: unknown): void {
    const slot = this.slots.find((s) => s.spec.pluginId === pluginId);
    if (!slot?.instance.setState) return;
    if (!slot.bypassed) {
      slot.instance.setState(state);
      return;
    }
    const made = this.instantiate(slot.spec, slot.definition, null, slot.opened);
    try {
      made.instance.setState?.(state);
    } catch (e) {
      disposeQuietly(made.instance);
      throw e;
    }
    this.install(slot.spec, slot.definition, made, slot, { watch: false, fade: false });
  }

  plugins(): { pluginId: string; slotId: number; version: string; bypassed: boolean; faults: number; lastError: string }[] {
    return this.slots.map((s) => ({ pluginId: s.spec.pluginId, slotId: s.spec.slotId, version: s.spec.version, bypassed: s.bypassed, faults: s.faults, lastError: s.lastError }));
  }

  /** The versions in the graph (not bypassed), in signal order, with the definitions they were made from. */
  versions(): { spec: SlotSpec; definition: PluginDefinition }[] {
    return this.slots.filter((s) => !s.bypassed).map((s) => ({ spec: s.spec, definition: s.definition }));
  }

  /** Why a version that is no longer in the graph failed (a rolled-back reload). */
  retiredError(slotId: number): string {
    return this.retiredErrors.get(slotId) ?? '';
  }

  /**
   * Between blocks: everything the next block depends on (kernel/audio/audio-snapshot.ts), or null
   * while a swap is in flight (a crossfade, or a new version still watched with its old one kept for
   * a rollback): ask again at a later boundary.
   */
  snapshot(): AudioSnapshot | null {
    if (this.slots.some((s) => s.previous !== null || s.fadePos < s.fadeLength)) return null;
    const slots = this.slots.map((s) => ({
      spec: s.spec,
      state: this.between(s.spec.slotId, () => stateOf(s, 'reload')),
      bypassed: s.bypassed,
      faults: s.faults,
      lastError: s.lastError,
    }));
    const openGates: number[] = [];
    for (let g = 0; g < this.gateOpen.length; g++) if (this.gateOpen[g]) openGates.push(g);
    const { frame, outputStopped, outputGain } = this;
    return { v: AUDIO_SNAPSHOT_VERSION, frame, buses: [...this.buses.keys()], slots, params: this.bank.capture(), queue: this.queue.capture(), openGates, outputStopped, outputGain };
  }

  /**
   * Into an empty engine (an offline replay), between blocks: the graph `snapshot()` saw. The
   * parameters, buses and addresses first (a new instance reads them as it is made), then every
   * version, then their states, then the queue (what `create` or `setState` scheduled is replaced by what was queued).
   */
  restore(snapshot: AudioSnapshot): void {
    if (this.slots.length > 0) throw new Error('restore: the engine already has plugins');
    this.frame = snapshot.frame;
    this.dueBefore = snapshot.frame + this.maxBlock;
    this.bank.restore(snapshot.params);
    for (const name of snapshot.buses) this.bus(name);
    // Every address first, then every version, then the states: a plugin resolves other plugins'
    // parameters and gates as it is made (an LFO's target) or takes its state (a sequencer's tracks).
    for (const { spec } of snapshot.slots) {
      for (const p of spec.params) this.paramAddresses.set(`/mod/${spec.modules[p.module]}/${p.name}`, p.index);
      for (const g of spec.gates) this.gateAddresses.set(spec.modules[g.module], g.index);
    }
    for (const s of snapshot.slots) this.load(s.spec);
    for (const s of snapshot.slots) {
      const slot = this.slots.find((x) => x.spec.slotId === s.spec.slotId) as PluginSlot;
      const state = acceptedState(slot.definition, s.state);
      if (state !== undefined) this.between(slot.spec.slotId, () => slot.instance.setState?.(state));
      Object.assign(slot, { bypassed: s.bypassed, faults: s.faults, lastError: s.lastError });
    }
    this.bank.restore(snapshot.params);
    this.queue.restore(snapshot.queue);
    for (const g of snapshot.openGates) {
      if (g >= this.gateOpen.length || this.gateOpen[g]) continue;
      this.gateOpen[g] = 1;
      this.openGates++;
    }
    this.outputStopped = snapshot.outputStopped;
    this.outputGain = snapshot.outputGain;
    this.shared.values[Slot.FramesRendered] = snapshot.frame;
  }

  // ───────────────────────── the real-time path ─────────────────────────

  /** Render one block of `frames` (≤ maxBlock) into `outL`/`outR`. Never throws, never allocates. */
  renderBlock(outL: Float32Array, outR: Float32Array, frames: number): void {
    const blockStart = this.frame;
    const blockEnd = blockStart + frames;
    this.dueBefore = blockEnd;
    this.takeRing(blockStart, blockEnd);

    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (s.bypassed || s.instance.beginBlock === undefined) continue;
      this.enter(s.spec.slotId, 0);
      try {
        s.instance.beginBlock(blockStart, frames);
      } catch (e) {
        this.fault(s, e);
      }
      this.leave();
    }
    const buses = this.busList;
    for (let i = 0; i < buses.length; i++) {
      buses[i].l.fill(0, 0, frames);
      buses[i].r.fill(0, 0, frames);
    }

    let pos = 0;
    const queue = this.queue;
    while (pos < frames) {
      this.applyDue(blockStart + pos);
      const next = queue.peekFrame();
      const end = next < blockEnd ? Math.ceil(next) - blockStart : frames;
      this.renderSpan(pos, end);
      pos = end;
    }

    this.writeOutput(outL, outR, frames);
    this.frame = blockEnd;
    this.dueBefore = blockEnd + this.maxBlock;
    const v = this.shared.values;
    v[Slot.FramesRendered] = blockEnd;
    v[Slot.BlocksRendered]++;
    v[Slot.ActiveGates] = this.openGates;
    v[Slot.EventsDropped] = queue.dropped + this.ring.dropped;
    v[Slot.QueueLength] = queue.length;
  }

  /**
   * The control ring's records into the queue. One due in this block always finds room (the queue
   * keeps a reserve for it; were even that full, it is applied at once rather than lost); one for a
   * later block is queued up to the queue's limit. `/engine/stop`'s record drops what was scheduled.
   */
  private takeRing(blockStart: number, blockEnd: number): void {
    const rec = this.record;
    const queue = this.queue;
    const v = this.shared.values;
    v[Slot.QueueLength] = queue.length + 1;
    const journal = this.journal;
    let taken = false;
    while (this.ring.pop(rec)) {
      const kind = rec.kind;
      const frame = rec.frame;
      if (journal !== null) {
        if (!taken) journal.push(JournalKind.Taken, blockStart, 0, 0);
        taken = true;
        journal.push(kind, frame < blockStart ? blockStart : frame, rec.target, rec.value);
      }
      if (kind === EventKind.ClearScheduled) queue.clearAfter(blockStart);
      else if (kind === EventKind.OutputStopped) this.outputStopped = rec.value > 0;
      else if (frame >= blockEnd) queue.insertLater(frame, kind, rec.target, rec.value);
      else if (queue.length < queue.capacity) queue.insert(frame < blockStart ? blockStart : frame, kind, rec.target, rec.value);
      else this.apply(kind, rec.target, rec.value);
      v[Slot.QueueLength] = queue.length + 1;
    }
    v[Slot.QueueLength] = queue.length;
  }

  /** A plugin's event (`ctx.events`): one due in the block being rendered may use the queue's reserve; a later one may not. */
  private schedule(frame: number, kind: number, target: number, value: number): void {
    if (frame < this.dueBefore) this.queue.insert(frame, kind, target, value);
    else this.queue.insertLater(frame, kind, target, value);
  }

  /**
   * Applies every queued event due at or before `frame`. A function of its own: renderBlock is too
   * large for V8 to inline the appliers into it, and a fractional value passed to a call that is
   * not inlined is boxed (an allocation per event); here they inline.
   */
  private applyDue(frame: number): void {
    const queue = this.queue;
    while (queue.peekFrame() <= frame) {
      this.apply(queue.peekKind(), queue.peekTarget(), queue.peekValue());
      queue.shift();
    }
  }

  private apply(kind: number, target: number, value: number): void {
    if (kind === EventKind.SetParam) this.bank.setBase(target, value);
    else if (kind === EventKind.Modulate) this.bank.setMod(target, value);
    else if (kind === EventKind.Gate) this.applyGate(target, value);
  }

  private applyGate(gate: number, value: number, depth = 0): void {
    const slot = this.gateSlot[gate];
    if (slot === undefined || slot.bypassed || slot.instance.gate === undefined) return;
    // Stopped (/engine/stop): no gate opens until /engine/start; closing one is always fine.
    if (value > 0 && this.outputStopped) return;
    const open = value > 0 ? 1 : 0;
    if (open !== this.gateOpen[gate]) this.openGates += open ? 1 : -1;
    this.gateOpen[gate] = open;
    this.enter(slot.spec.slotId, 0);
    try {
      slot.instance.gate(this.gateModule[gate], value);
    } catch (e) {
      this.fault(slot, e);
    }
    this.leave();
    const follower = gate < this.gateFollower.length ? this.gateFollower[gate] : -1;
    if (follower >= 0 && depth < 4) this.applyGate(follower, value, depth + 1);
  }

  private renderSpan(start: number, end: number): void {
    const n = end - start;
    this.bank.beginSpan(n);
    const slots = this.slots;
    let mixed = false;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (!mixed && s.stage >= 4) {
        this.mixMainIntoMaster(start, end);
        mixed = true;
      }
      if (s.bypassed) continue;
      if (s.fadePos < s.fadeLength) {
        this.crossfade(s, start, end);
        continue;
      }
      if (s.previous !== null && this.frame < s.watchUntil) {
        this.processWatched(i, s, start, end);
        continue;
      }
      this.runChecked(s, start, end);
    }
    if (!mixed) this.mixMainIntoMaster(start, end);
    this.bank.endSpan();
  }

  private mixMainIntoMaster(start: number, end: number): void {
    const from = this.mainBits;
    const to = this.masterBits;
    // Both are the first buses made, so always in the bus memory (four frames at a time there).
    this.busMemory.add(to.lp, from.lp, to.l, from.l, start, end);
    this.busMemory.add(to.rp, from.rp, to.r, from.r, start, end);
  }

  /**
   * A slot that replaced an older version of its plugin: render both, each on the same input, and
   * blend them (linear or equal-power: `engine.reloadCrossfade`). Sources and sends add into their buses, so their
   * contributions are blended; effects rewrite their bus, so their outputs are.
   */
  private crossfade(s: PluginSlot, start: number, end: number): void {
    const buses = this.busList;
    const saved = this.busSaved;
    const oldOut = this.busOld;
    const nb = buses.length;
    for (let b = 0; b < nb; b++) copyRange(buses[b], saved[b], start, end);
    const old = s.previous as PluginSlot;
    try {
      this.run(old, start, end);
    } catch {
      // The old version failing while it fades out only shortens its fade.
    }
    // What the old version made is blended in: never anything non-finite.
    this.clean(old, start, end);
    for (let b = 0; b < nb; b++) {
      copyRange(buses[b], oldOut[b], start, end);
      copyRange(saved[b], buses[b], start, end);
    }
    if (!this.runChecked(s, start, end)) {
      // This span is the old version's alone (it plays on if the new one was rolled back).
      for (let b = 0; b < nb; b++) copyRange(oldOut[b], buses[b], start, end);
      return;
    }
    const additive = s.stage === STAGE_SOURCE || s.stage === STAGE_SEND;
    const length = s.fadeLength;
    const equalPower = this.equalPowerFades;
    let pos = s.fadePos;
    for (let i = start; i < end; i++) {
      const x = pos < length ? pos / length : 1;
      const gNew = equalPower ? Math.sin(x * (Math.PI / 2)) : x;
      const gOld = equalPower ? Math.cos(x * (Math.PI / 2)) : 1 - x;
      for (let b = 0; b < nb; b++) {
        const bus = buses[b];
        const o = oldOut[b];
        if (additive) {
          const base = saved[b];
          bus.l[i] = base.l[i] + gOld * (o.l[i] - base.l[i]) + gNew * (bus.l[i] - base.l[i]);
          bus.r[i] = base.r[i] + gOld * (o.r[i] - base.r[i]) + gNew * (bus.r[i] - base.r[i]);
        } else {
          bus.l[i] = gOld * o.l[i] + gNew * bus.l[i];
          bus.r[i] = gOld * o.r[i] + gNew * bus.r[i];
        }
      }
      pos++;
    }
    s.fadePos = pos;
  }

  /**
   * A new version under watch: the buses are saved first, so that if it fails, they are restored and
   * the version it replaced renders this same span — the listener hears no gap.
   */
  private processWatched(index: number, s: PluginSlot, start: number, end: number): void {
    const buses = this.busList;
    const saved = this.busSaved;
    for (let b = 0; b < buses.length; b++) copyRange(buses[b], saved[b], start, end);
    if (this.runChecked(s, start, end)) return;
    const restored = this.slots[index];
    // Rolled back or bypassed: the buses as they were before it ran (its partial output is not heard).
    for (let b = 0; b < buses.length; b++) copyRange(saved[b], buses[b], start, end);
    if (restored === s || restored.bypassed) return;
    this.runChecked(restored, start, end);
  }

  /**
   * After a plugin's call: true when every bus it can write (those it obtained from its context)
   * holds only sane samples in [start, end). A bus that does not is silenced over that range; the
   * others are left alone. Checking only its own buses is what puts the blame on the culprit and not
   * on the next plugin that reads what it wrote.
   */
  private clean(slot: PluginSlot, start: number, end: number): boolean {
    const buses = slot.buses;
    const bits = slot.bits;
    // A bus obtained after create (rare) gets its views here, between the plugin's calls.
    while (bits.length < buses.length) bits.push(this.bits.get(buses[bits.length]));
    let ok = true;
    for (let b = 0; b < buses.length; b++) if (!this.sane(buses[b], bits[b], start, end)) ok = false;
    return ok;
  }

  /** True when the bus holds only finite samples within ±RUNAWAY in [start, end); otherwise silences that range. */
  private sane(bus: Bus, bits: BusBits | undefined, start: number, end: number): boolean {
    if (saneBus(bus, bits, start, end, this.busMemory)) return true;
    bus.l.fill(0, start, end);
    bus.r.fill(0, start, end);
    return false;
  }

  /**
   * A plugin threw or made non-finite or runaway audio. A version still under watch after a reload
   * is rolled back to the one it replaced; otherwise the plugin is bypassed. Either way it is
   * reported, and the engine plays on.
   */
  private fault(slot: PluginSlot, error: unknown): void {
    slot.faults++;
    slot.lastError = error === undefined ? 'produced non-finite or runaway samples (NaN, Infinity or beyond ±64)' : String((error as Error)?.stack ?? error);
    this.shared.values[Slot.PluginFaults]++;
    const previous = slot.previous;
    if (previous !== null && !previous.bypassed && this.frame < slot.watchUntil) {
      const slots = this.slots;
      for (let i = 0; i < slots.length; i++) if (slots[i] === slot) slots[i] = previous;
      for (let g = 0; g < this.gateSlot.length; g++) if (this.gateSlot[g] === slot) this.gateSlot[g] = previous;
      slot.previous = null;
      slot.bypassed = true;
      this.retired.push(slot);
      this.reports.push(ReportKind.PluginRolledBack, this.frame, slot.spec.slotId, previous.spec.slotId);
      return;
    }
    slot.bypassed = true;
    this.reports.push(ReportKind.PluginFault, this.frame, slot.spec.slotId, slot.faults);
  }

  /**
   * Master to the output: NaN guard, hard clip at full scale (the limiter plugin keeps it below), the
   * stop gain (fading over OUTPUT_FADE_MS after /engine/stop or /engine/start), meters.
   */
  private writeOutput(outL: Float32Array, outR: Float32Array, frames: number): void {
    if (this.outputGain === 1 && !this.outputStopped) this.writeSettled(outL, outR, frames);
    else this.writeFading(outL, outR, frames);
    if (this.outputTap !== null) {
      this.outputChannels[0] = outL;
      this.outputChannels[1] = outR;
      this.outputTap.write(this.outputChannels, 0, frames);
    }
  }

  /** At full gain (playing, no fade): master clipped in place in the bus memory, then copied out. */
  private writeSettled(outL: Float32Array, outR: Float32Array, frames: number): void {
    const bits = this.masterBits;
    const meters = this.meters;
    this.busMemory.clip(bits.lp, bits.rp, bits.l, bits.r, frames, meters);
    if (frames === outL.length && frames === bits.l.length) {
      outL.set(bits.l);
      outR.set(bits.r);
    } else {
      for (let i = 0; i < frames; i++) {
        outL[i] = bits.l[i];
        outR[i] = bits.r[i];
      }
    }
    this.publishMeters(frames);
  }

  /** The output's meters (`meters`, of `frames` frames) into the shared state. */
  private publishMeters(frames: number): void {
    const v = this.shared.values;
    const meters = this.meters;
    v[Slot.PeakL] = meters[0];
    v[Slot.PeakR] = meters[1];
    v[Slot.Rms] = Math.sqrt(meters[2] / (2 * frames));
  }

  /** While the output fades after /engine/stop or /engine/start, or rests stopped. */
  private writeFading(outL: Float32Array, outR: Float32Array, frames: number): void {
    const l = this.master.l;
    const r = this.master.r;
    const target = this.outputStopped ? 0 : 1;
    const step = this.outputStep;
    let gain = this.outputGain;
    for (let i = 0; i < frames; i++) {
      if (gain !== target) gain = target > gain ? (gain + step < 1 ? gain + step : 1) : gain - step > 0 ? gain - step : 0;
      outL[i] = clipSample(l[i] * gain);
      outR[i] = clipSample(r[i] * gain);
    }
    this.outputGain = gain;
    const meters = this.meters;
    meters.fill(0);
    addMeters(outL, outR, 0, frames, meters);
    this.publishMeters(frames);
  }
}

/** Copy frames [start, end) of both channels (no subarray views: nothing allocated). */
function copyRange(from: Bus, to: Bus, start: number, end: number): void {
  const fl = from.l;
  const fr = from.r;
  const tl = to.l;
  const tr = to.r;
  for (let i = start; i < end; i++) {
    tl[i] = fl[i];
    tr[i] = fr[i];
  }
}

/** A dispose that throws has nothing left to release that we could reach. */
function disposeQuietly(instance: PluginInstance): void {
  try {
    instance.dispose?.();
  } catch {
    // Nothing to do.
  }
}

/** A slot's state for `purpose`, or undefined when it keeps none or its getState throws (a broken instance). */
function stateOf(slot: PluginSlot, purpose: StatePurpose): unknown {
  try {
    return slot.instance.getState?.(purpose);
  } catch {
    return undefined;
  }
}

/** `state` as the definition's stateSchema parses it (bounded, maybe clamped), or undefined when refused or absent. */
function acceptedState(definition: PluginDefinition, state: unknown): unknown {
  if (state === undefined) return undefined;
  const schema = definition.stateSchema;
  if (schema === undefined) return state;
  const parsed = schema.safeParse(state);
  return parsed.success ? parsed.data : undefined;
}

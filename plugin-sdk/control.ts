/**
 * The control half of a plugin: an optional second entry (`"control": "control.ts"` in plugin.json)
 * that runs on the control thread, for everything a plugin does that may block or allocate: files,
 * sockets, timers, its own OSC routes with replies. It talks to its audio half only through the
 * channels below (commands between blocks, shared values, tap rings), never through kernel types.
 *
 * Threads and lifetime:
 * - `create` runs once per version, after the audio half of the same plugin is live (when it has one).
 * - Everything obtained from the context (routes, timers, sockets, watches) belongs to that version
 *   and is closed when it is replaced or unloaded, after `dispose`. Files opened with `ctx.files.open`
 *   belong to the plugin and stay open across a reload, so a new version can take them over in its
 *   state; they are closed when the plugin is unloaded.
 * - A hot reload of the control entry hands `getState()` of the old version to `setState` of the new one
 *   (same thread: the object itself, not a copy).
 * - The code runs in a realm of its own like the audio half (no `process`, `require` or ambient I/O):
 *   everything it may touch comes through the context. Each call into it is time-limited
 *   (`engine.controlCallMs`): a synchronous endless loop is stopped and reported, and the engine goes on.
 */
import type { ZodType, z } from 'zod';
import type { LegacyReader } from './legacy.ts';
import type { PluginLogger } from './types.ts';

/** How a route answers the sender. */
export interface RouteReply {
  /** The address the message arrived at. */
  readonly address: string;
  reply(address: string, ...args: unknown[]): void;
  replyJson(address: string, value: unknown): void;
}

export interface ControlRoute<S extends ZodType> {
  readonly args: S;
  readonly description: string;
  /** Argument names for `/engine/schema` (`["name", "[format]"]`: brackets mark optional ones). */
  readonly usage?: readonly string[];
  /** How the engine's console shows a JSON reply sent on this route's own address (lines of text). */
  readonly show?: (value: unknown) => string[];
}

/**
 * The reading end of a tap ring the audio half opened with `ctx.tap(name, …)`. Look it up again after
 * the audio half is reloaded (a new version may open a new ring).
 */
export interface TapReader {
  readonly channels: number;
  readonly capacity: number;
  /** Frames waiting to be read. */
  readonly available: number;
  /** Frames the writer dropped since the ring was made (the reader was behind). */
  readonly dropped: number;
  /** Int32 words shared with the writer; words 4..15 are the plugin's own (use Atomics). */
  readonly header: Int32Array;
  /** Moves up to `maxFrames` frames into the channel arrays `out`; returns how many. */
  read(out: Float32Array[], maxFrames?: number): number;
}

/** A file opened in the plugin's folder (Node's FileHandle, narrowed to what a plugin needs). */
export interface PluginFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  sync(): Promise<void>;
  /** fdatasync: the data durable, metadata only as far as needed to read it back. */
  datasync(): Promise<void>;
  truncate(length?: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** What `files.open` and `files.stat` tell about an entry. */
export interface PluginFileStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
}

/**
 * The plugin's own folder for files (manifest `folder`, or `plugins.<id>.folder` in config). Every
 * `name` is a path relative to it; one that leaves it (`..`, an absolute path, a link out) is refused
 * with a coded error (`PATH_ESCAPE`).
 */
export interface PluginFiles {
  /** The folder's absolute path (for replies and logs). */
  readonly root: string;
  /** The absolute path of `name` inside the folder; throws when it would leave it. */
  path(name: string): string;
  /** `flags` as Node's: 'r', 'r+', 'w', 'wx' (never overwrite), 'a'. */
  open(name: string, flags: string): Promise<PluginFile>;
  readFile(name: string): Promise<Uint8Array>;
  /** Written to a temporary file, fsynced and renamed over `name`: readers see the old or the new file, never a torn one. */
  writeFileAtomic(name: string, data: Uint8Array | string): Promise<void>;
  mkdir(name: string): Promise<void>;
  /** fsync the folder `name` (default the root): names created or renamed in it survive a power cut. */
  syncDir(name?: string): Promise<void>;
  readdir(name?: string): Promise<string[]>;
  stat(name: string): Promise<PluginFileStat | null>;
  rename(from: string, to: string): Promise<void>;
  /** Gives the file `from` a second name `to` (a hard link; a copy where the file system has none). */
  link(from: string, to: string): Promise<void>;
  remove(name: string): Promise<void>;
  /**
   * Calls `onChange(name)` (relative to the folder) when a file under `name` is added, changed or
   * removed, once the write has finished. Closed with the version that asked.
   */
  watch(name: string, onChange: (name: string, kind: 'add' | 'change' | 'unlink') => void): void;
}

/**
 * The plugin's own folder (where its plugin.json is), read only: files that ship with the plugin —
 * samples, tables, presets. Names are relative to it and confined like `PluginFiles`' (PATH_ESCAPE).
 * Files the bundler does not read (anything but plugin.json, the bundle's inputs and source files)
 * never reload the plugin's code when they change: a control half that wants them watches them
 * itself (`watch`) and reloads them as data, e.g. the sampler's `samples/`.
 */
export type PluginFolder = Pick<PluginFiles, 'root' | 'path' | 'readFile' | 'readdir' | 'stat' | 'watch'>;

/** Timers owned by one version of a control half (cleared when it is replaced or unloaded). */
export interface PluginTimers {
  /** Milliseconds on a monotonic clock (`performance.now()`): for intervals and durations, not the time of day. */
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  setInterval(fn: () => void, ms: number): number;
  clear(id: number): void;
}

/** A UDP socket owned by one version of a control half (closed when it is replaced or unloaded). */
export interface PluginUdpSocket {
  /** The port bound. */
  readonly port: number;
  send(data: Uint8Array, port: number, host: string): void;
  /** Encodes an OSC message (numbers as the engine's replies encode them) and sends it. */
  sendOsc(port: number, host: string, address: string, ...args: unknown[]): void;
  onMessage(fn: (data: Uint8Array, from: { address: string; port: number }) => void): void;
  close(): void;
}

/**
 * An HTTP request as a control half sees it. Only GET and HEAD reach it (the kernel answers any other
 * method 405 and never reads a body), from a sender the kernel let in (see `ControlContext.http`).
 */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD';
  /** The path and query as sent, e.g. `/mod/voice1/freq?VALUE`. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly remoteAddress: string;
}

/** What a request handler answers. HEAD gets the headers alone. */
export interface HttpResponse {
  /** Default 200. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

/** One WebSocket connection, owned by the version that accepted it (closed with it). */
export interface PluginWebSocket {
  /** The path and query of the upgrade request. */
  readonly url: string;
  readonly remoteAddress: string;
  /** Bytes queued and not sent yet (a client that reads slowly). */
  readonly bufferedAmount: number;
  /** Sends a text or binary frame; false (nothing sent) when closed or more than 1 MiB already waits. */
  send(data: string | Uint8Array): boolean;
  /** Text frames arrive as strings, binary ones as bytes. */
  onMessage(fn: (data: string | Uint8Array) => void): void;
  onClose(fn: () => void): void;
  close(code?: number, reason?: string): void;
}

/** Where `ControlContext.http` listens. */
export interface HttpOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. Beyond loopback only the senders of `osc.allow` are let in. */
  readonly host?: string;
  /** Page origins (`http://host:port`) a WebSocket may also come from, besides the server's own. */
  readonly origins?: readonly string[];
}

/** An HTTP + WebSocket server owned by one version of a control half. */
export interface PluginHttpServer {
  readonly port: number;
  readonly host: string;
  /** Answers every request (a thrown error or a rejected promise answers 500). */
  onRequest(fn: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>): void;
  /** Takes every WebSocket connection the kernel accepted (origin checked). */
  onWebSocket(fn: (socket: PluginWebSocket, request: HttpRequest) => void): void;
  /** Stops listening (this version's connections closed). */
  close(): Promise<void>;
}

/** A service announced over mDNS / DNS-SD (`ControlContext.advertise`). */
export interface MdnsService {
  /** The instance name people see, e.g. "Chronus". */
  readonly name: string;
  /** The service type without underscores, e.g. `oscjson`. */
  readonly type: string;
  /** Default `tcp`. */
  readonly protocol?: 'tcp' | 'udp';
  readonly port: number;
  readonly txt?: Readonly<Record<string, string>>;
  /** An IPv4 address of this machine whose interface carries the announcement (default: every interface). */
  readonly interface?: string;
}

/** The audio half of the same plugin, seen from the control half. */
export interface AudioHalf {
  /** True while the audio half is in the graph (false for a control-only plugin, or after it was removed). */
  readonly live: boolean;
  /** Calls the audio instance's `command(name, args)` between blocks and resolves to what it returned. */
  command(name: string, args?: unknown): Promise<unknown>;
  /**
   * Publishes `value` (structured-cloneable; a SharedArrayBuffer or a typed array over one is shared,
   * not copied) under `name`: every audio instance of this plugin reads it with `ctx.shared(name)` in
   * `create`, and a running one is told at once through its `shared(name, value)` hook (between
   * blocks). A value published once outlives reloads of either half and a new audio thread.
   */
  share(name: string, value: unknown): Promise<void>;
  /** The tap ring `name` opened by the audio half, or undefined. */
  tap(name: string): TapReader | undefined;
  /**
   * Makes the audio half again from its files with the plugin's config as it is now: its `create`
   * runs again (a new `ctx.config`, new taps), its state is handed over and it is swapped in at a block
   * boundary with a crossfade, like any hot reload. This control half keeps running (it is not
   * replaced): look taps up again afterwards. For settings the audio half can only take in `create`
   * (a ring's size); call it when nothing depends on the old instance. Rejects with
   * PLUGIN_LOAD_FAILED when the new version is refused (the old one plays on).
   */
  reload(): Promise<void>;
}

/** A plugin coming, going or failing, as `EngineView.onPlugins` reports it. */
export interface PluginChange {
  readonly kind: 'loaded' | 'reloaded' | 'unloaded' | 'failed';
  readonly id: string;
  readonly version?: string;
  /** For `failed`: what went wrong, with the file and line when known. */
  readonly message?: string;
}

/** Peaks since the reader's last call, from the plugins' meters (`ctx.meters` of their audio halves). */
export interface PluginLevels {
  readonly plugin: string;
  /** The plugin's modules, when it has one meter per module (e.g. voice1…); else empty. */
  readonly modules: readonly string[];
  readonly peaks: readonly number[];
}

/**
 * The whole engine as a control half may see and drive it: for tools that show or control everything
 * (a web view, OSCQuery, a status display). Every change goes through the same router, validation,
 * clamping and smoothing as an OSC message.
 */
export interface EngineView {
  /** The document `/engine/schema` answers: every module, parameter (range, unit, default, description), gate and route. */
  schema(): Record<string, unknown>;
  /** The engine's status (`/engine/status`). */
  status(): Record<string, unknown>;
  /** Every OSC address the engine answers, with its description and argument names (`/engine/routes`, without a message). */
  routes(): { address: string; description: string; usage: readonly string[] }[];
  /** Base values now, by address (`/mod/voice1/freq` → 440): what the last change set, modulation not included. */
  values(): Record<string, number>;
  /** Sends a message as a client would; replies (and `/error`s) reach `onReply` as a client decodes them. Resolves when it was handled. */
  send(address: string, args?: readonly unknown[], onReply?: (address: string, args: readonly unknown[]) => void): Promise<void>;
  /** Peaks of every metering plugin since this plugin's last call (each reader has its own), and the master's [L, R]. */
  levels(): { plugins: PluginLevels[]; master: readonly [number, number] };
  /** The most recent `out.length` samples of the output (mono: (L + R) / 2), oldest first; at most 8192. */
  recentOutput(out: Float32Array): void;
  /** Every base value change (from OSC, a pattern load, another plugin): `fn(address, value)`. Removed with the version. */
  onParam(fn: (address: string, value: number) => void): void;
  /** Plugins loaded, reloaded, unloaded or failing. Removed with the version. */
  onPlugins(fn: (change: PluginChange) => void): void;
  /**
   * The engine as data: every parameter's base value and every plugin's 'save' state. `problems` lists
   * states that fail their own plugin's `stateSchema` (a plugin in a bad state), one line each.
   */
  capture(): Promise<{ snapshot: EngineSnapshot; problems: string[] }>;
  /**
   * Puts a snapshot back, all of it or nothing: states are checked against their plugins' schemas
   * first, a plugin that refuses its state rolls the others back, parameters are set last (smoothed).
   * What the engine does not have is skipped and listed in `notices`.
   */
  restore(snapshot: EngineSnapshot, options: RestoreOptions): Promise<RestoreOutcome>;
  /** What the loaded plugins read of the old engine's files (their `legacy` declarations), in load order. */
  legacyReaders(): LegacyReader[];
  /** The Chronus version running (package.json). */
  readonly version: string;
}

/** Every parameter's base value by module id and parameter name, and every plugin's state by plugin id. */
export interface EngineSnapshot {
  params: Record<string, Record<string, number>>;
  plugins: Record<string, unknown>;
}

export interface RestoreOptions {
  /**
   * When controllers' states (the sequencer's) land: on their next bar, or at once — a pattern's way,
   * which leaves their transport (playing or stopped) alone; or `'resume'`: at once and as a hot
   * reload hands them over, transport included (an engine started again after a failure).
   */
  readonly controllersAt: 'bar' | 'now' | 'resume';
}

export type RestoreOutcome =
  | { readonly ok: true; readonly params: number; readonly plugins: string[]; readonly notices: string[] }
  /** Nothing was changed; one line per problem, naming `plugins.<id>` and the field. */
  | { readonly ok: false; readonly problems: string[] };

export interface ControlContext {
  readonly pluginId: string;
  readonly modules: readonly string[];
  /** This plugin's config section (`plugins.<id>` in the config, minus `enabled`) as it is now. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly sampleRate: number;
  readonly blockSize: number;
  /** False in an offline render (audio is rendered as fast as possible, nothing listens): skip live feeds. */
  readonly realtime: boolean;
  /** The engine's voice count (config `engine.numVoices`): what a manifest's `count: "config:numVoices"` expands to. */
  readonly numVoices: number;
  readonly log: PluginLogger;
  readonly audio: AudioHalf;
  readonly files: PluginFiles;
  /** The plugin's own folder, read only (see `PluginFolder`). */
  readonly pluginFiles: PluginFolder;
  readonly timers: PluginTimers;
  readonly engine: EngineView;
  /** Opens a UDP socket on `host` (default loopback) and `port` (0: any free one). */
  udp(port?: number, host?: string): Promise<PluginUdpSocket>;
  /**
   * Opens an HTTP server with WebSockets on `host` (default loopback) and `port` (0: any free one).
   * The kernel guards it: only GET and HEAD reach the plugin; a request whose Host header is not this
   * machine (a DNS-rebinding page) is refused; a WebSocket from a page of another origin is refused
   * (clients that send no Origin, such as OSCQuery tools, are let in); beyond loopback, only senders of
   * `osc.allow` connect, and a host beyond loopback with an empty `osc.allow` is refused (HTTP_NOT_ALLOWED).
   * A port in use fails with HTTP_LISTEN_FAILED. Closed with the version; a new version of the same
   * plugin that asks for the same host and port takes the listening socket over (connections of the
   * old version are closed with it, so clients reconnect to the new one).
   */
  http(options?: HttpOptions): Promise<PluginHttpServer>;
  /** Announces a service over mDNS (DNS-SD) until the version goes or `stop` is called. */
  advertise(service: MdnsService): Promise<{ stop(): Promise<void> }>;
  /**
   * Adds an OSC route. The kernel checks the arguments with `route.args` (a zod schema over the array of
   * OSC arguments) and answers `/error <address> <code> <message>` for bad ones or for an error the
   * handler throws (a `CodedError` keeps its code). Addresses `/mod/…` and `/gate/…` are the kernel's.
   */
  route<S extends ZodType>(address: string, route: ControlRoute<S>, handler: (args: z.infer<S>, reply: RouteReply) => unknown): void;
  /** Sends `/address args…` to every client the engine knows (engine-wide notices). */
  broadcast(address: string, ...args: unknown[]): void;
  /**
   * Fields this plugin adds to the engine's status (`/engine/status`, the status file), under
   * `plugins.<id>`; a field `active: true` marks the plugin busy (e.g. recording).
   */
  setStatus(fields: Readonly<Record<string, unknown>>): void;
}

export interface ControlInstance {
  /** What a new version of the control half gets in `setState` on a hot reload (the object itself). */
  getState?(): unknown;
  setState?(state: unknown): void;
  /** The engine is stopping (`/engine/stop`, shutdown): finish what must not be lost (close files). */
  stop?(): Promise<void> | void;
  /** The config section changed while running (config/local.json). */
  configChanged?(config: Readonly<Record<string, unknown>>): void;
  /** Replaced or unloaded: release what the kernel does not track. Routes, timers, sockets and watches are closed after it. */
  dispose?(): Promise<void> | void;
}

export interface ControlDefinition {
  create(ctx: ControlContext): ControlInstance | Promise<ControlInstance>;
}

/** Declare a control half. Identity at run time; gives the definition its type. */
export function defineControl<const D extends ControlDefinition>(definition: D): D {
  return definition;
}

/** A whole number sent as an OSC int32 (`'i'`): a reply argument that must not go out as a float. */
export function oscInt(value: number): { type: 'i'; value: number } {
  return { type: 'i', value: Math.trunc(value) };
}

/** A whole number sent as an OSC int64 (`'h'`), for counts that can pass 2^31 (frames). */
export function oscInt64(value: number): { type: 'h'; value: number } {
  return { type: 'h', value: Math.trunc(value) };
}

/**
 * An error with a code: a route handler that throws it answers `/error <address> <code> <message>`.
 * With `details` (one line per problem) and a `hint`, the message reads as the engine's own errors do:
 * `CODE: summary`, the details indented, then the hint.
 */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options: { readonly details?: readonly string[]; readonly hint?: string } = {},
  ) {
    const { details, hint } = options;
    super(details === undefined && hint === undefined ? message : [`${code}: ${message}`, ...(details ?? []).map((d) => `  ${d}`), ...(hint ? [hint] : [])].join('\n'));
  }
}

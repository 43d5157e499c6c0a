/**
 * Configuration: `config/default.json` < `config/local.json` (optional) < `CHRONUS_*` env vars.
 *
 * Read and validated once at start (control thread, synchronous). Every problem is collected and
 * thrown together in one ChronusError, each line naming the file or env var it came from, the field,
 * what is allowed and the value found. Objects are strict, so a misspelt key is an error, except
 * `plugins.<id>`, which keeps the plugin's own keys for `ctx.config`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ChronusError, ErrorCode, formatZodIssues, PARSE_ONCE, preview } from './errors.ts';
import { PLUGIN_ID_RE } from '../plugins/manifest.ts';
import { isLoopback, parseAllowEntry } from '../osc/osc-allow-list.ts';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const port = int(0, 65535); // 0: any free port (tests)
const host = z.string().min(1);
const relPath = z.string().min(1);

export const PluginConfigSchema = z.looseObject({ enabled: z.boolean().optional() });

export const ConfigSchema = z.strictObject({
  audio: z.strictObject({
    backend: z.enum(['auto', 'device', 'null', 'offline']),
    sampleRate: int(8000, 192000),
    /** Block size in frames. */
    bufferSize: int(16, 4096),
    /** Device name, device index, or null for the default device. */
    device: z.union([z.string().min(1), z.number().int().min(0), z.null()]),
    /** Blocks rendered ahead of the output clock. */
    leadBlocks: int(1, 64),
    /**
     * While a real-time backend plays, keep the CPUs out of idle states slower than this to leave
     * (µs; /dev/cpu_dma_latency, needs root or write access to it); null leaves the system alone.
     */
    cpuDmaLatencyUs: z.union([int(0, 2_000_000_000), z.null()]),
    /** Keep the last allowed CPU for the audio thread and the other threads off it (kernel/platform/cpu-affinity.ts). */
    dedicatedCpu: z.boolean(),
    /**
     * The watchdog: one plugin call inside a block running this long (ms) is a hang — the audio thread
     * is replaced and the plugin quarantined (calls between blocks: ten times this, at least 1 s).
     */
    watchdogMs: int(20, 10000),
  }),
  osc: z
    .strictObject({
      host,
      port,
      replyToSender: z.boolean(),
      maxPacketBytes: int(64, 65507),
      /**
       * Senders allowed besides loopback (which always is), as IP addresses or CIDR subnets. Required
       * (non-empty) when `host` is not a loopback address; packets from anyone else are dropped.
       */
      allow: z
        .array(z.string().refine((s) => parseAllowEntry(s) !== null, { error: 'must be an IP address or a CIDR subnet, e.g. "10.0.0.5" or "192.168.1.0/24"' }))
        .max(1000),
      /** SO_RCVBUF asked for the OSC socket (the OS caps it at net.core.rmem_max); 0 leaves the OS default. */
      recvBufferBytes: int(0, 1 << 30),
    })
    .superRefine((osc, ctx) => {
      if (isLoopback(osc.host) || osc.allow.length > 0) return;
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message:
          `${JSON.stringify(osc.host)} listens beyond loopback, so osc.allow must list the senders allowed to control the engine ` +
          '(IP addresses or CIDR subnets, e.g. "allow": ["192.168.1.0/24"]); or listen on "127.0.0.1"',
      });
    }),
  engine: z.strictObject({
    // Old clients expect 1–16; more are allowed for big patches and the 128-voice benchmark workload.
    numVoices: int(1, 128),
    smoothingMs: z.number().min(0).max(10000),
    statusFile: relPath,
    statusIntervalMs: int(10, 60000),
    /** Seconds of audio a new plugin version must render cleanly off the audio thread before it goes live (0: no check). */
    stageSeconds: z.number().min(0).max(10),
    /** How long a version's evaluation or trial may run before it is refused as hung. */
    trialTimeoutMs: int(100, 60000),
    /** How long the synchronous part of one call into a plugin's control half may run before it is stopped (PLUGIN_CONTROL_HUNG). */
    controlCallMs: int(10, 60000),
    /** Memory (heap and array buffers) one plugin version may take in its trial; more is refused. */
    pluginMemoryMb: int(16, 4096),
    /** Watch plugins/ and config/local.json and reload what changes while running. */
    watch: z.boolean(),
    /**
     * How a reloaded version fades in over the old one. `linear` (default) keeps the level steady:
     * with state handed over, both versions play the same sound, and an equal-power fade would swell
     * by up to 3 dB; `equal-power` suits edits that change the sound entirely.
     */
    reloadCrossfade: z.enum(['linear', 'equal-power']),
    /** Quiet time after the last file event before a plugin reloads. */
    reloadDebounceMs: int(0, 5000),
    /** How far ahead a timed message (bundle timetag) may be; one further ahead is refused with /error EVENT_TOO_FAR_AHEAD. */
    scheduleHorizonSeconds: z.number().positive().max(3600),
    /**
     * Print what the old engine printed on its console (status, list, schema, sequencer status,
     * pattern list, every /error) on stdout, for clients that never read replies (chronusctl).
     */
    console: z.boolean(),
  }),
  /**
   * Folders, relative to the project root. Besides the kernel's own, a key names a plugin's folder for
   * files (the manifest's `folder`, e.g. `samples`); `data` holds the folders of plugins that name none.
   */
  paths: z.object({ plugins: relPath, patterns: relPath, schemas: relPath, data: relPath, sessions: relPath }).catchall(relPath),
  /** Session journals (session/): on by default; the oldest are removed beyond either cap when an engine starts or on `chronus sessions prune`. */
  sessions: z.strictObject({
    enabled: z.boolean(),
    maxCount: int(1, 100000),
    maxBytes: int(1 << 20, Number.MAX_SAFE_INTEGER),
    /** Seconds of audio between snapshots of the audio graph (a replay `--from` starts at the last one before it); 0: none. */
    snapshotSeconds: z.number().min(0).max(3600).refine((s) => s === 0 || s >= 1, { error: 'must be 0 (no snapshots) or at least 1 second' }),
  }),
  plugins: z.record(
    z.string().regex(PLUGIN_ID_RE, { error: 'must be a plugin id: lowercase letters, digits and dashes, starting with a letter' }),
    PluginConfigSchema,
  ),
});

/** The validated configuration; path fields are absolute and inside the root. */
export type Config = z.infer<typeof ConfigSchema>;
export type PluginConfig = z.infer<typeof PluginConfigSchema>;

/** Fields holding a path relative to the root besides every `paths.*`; resolved to absolute, and must stay inside the root. */
const OTHER_PATH_FIELDS = [['engine', 'statusFile']] as const;

/** Every field holding a path in `config` (merged JSON): each key of `paths`, and OTHER_PATH_FIELDS. */
export function pathFields(config: Record<string, unknown>): (readonly [string, string])[] {
  const paths = config.paths;
  const keys = isObject(paths) ? Object.keys(paths) : [];
  return [...keys.map((k) => ['paths', k] as const), ...OTHER_PATH_FIELDS];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Top-level sections that became a plugin's section when their code moved into that plugin: a file
 * written before still works (its section is read as the plugin's, which wins where both are set).
 */
const MOVED_SECTIONS: Readonly<Record<string, string>> = { viz: 'viz' };

function movedSections(data: Record<string, unknown>): Record<string, unknown> {
  if (!Object.keys(MOVED_SECTIONS).some((k) => k in data)) return data;
  const out = { ...data };
  const plugins = { ...(isObject(out.plugins) ? out.plugins : {}) };
  for (const [old, id] of Object.entries(MOVED_SECTIONS)) {
    if (!(old in out)) continue;
    const section = out[old];
    delete out[old];
    plugins[id] = isObject(section) ? { ...section, ...(isObject(plugins[id]) ? plugins[id] : {}) } : section;
  }
  out.plugins = plugins;
  return out;
}

type EnvKind = 'number' | 'string' | 'device';
/** Environment overrides (an empty value counts as unset). */
export const ENV_VARS: readonly { name: string; path: readonly [string, string]; kind: EnvKind; allowed: string }[] = [
  { name: 'CHRONUS_SAMPLE_RATE', path: ['audio', 'sampleRate'], kind: 'number', allowed: 'an integer 8000-192000' },
  { name: 'CHRONUS_BUFFER_SIZE', path: ['audio', 'bufferSize'], kind: 'number', allowed: 'an integer 16-4096 (frames per block)' },
  { name: 'CHRONUS_AUDIO', path: ['audio', 'backend'], kind: 'string', allowed: 'auto, device, null or offline' },
  { name: 'CHRONUS_DEVICE', path: ['audio', 'device'], kind: 'device', allowed: 'a device name or index' },
  { name: 'CHRONUS_OSC_PORT', path: ['osc', 'port'], kind: 'number', allowed: 'an integer 1-65535, or 0 for any free port' },
  { name: 'CHRONUS_NUM_VOICES', path: ['engine', 'numVoices'], kind: 'number', allowed: 'an integer 1-128' },
];

export interface LoadConfigOptions {
  /** The project folder: holds `config/`, and every configured path stays inside it. */
  readonly root: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The local override file, relative to `root` or absolute. Default `config/local.json`, read only if
   * it exists; a file named here must exist. `false` reads no local file.
   */
  readonly localFile?: string | false;
}

const key = (p: readonly PropertyKey[]) => p.map(String).join('\u0000');

export function loadConfig({ root, env = process.env, localFile }: LoadConfigOptions): Config {
  root = path.resolve(root);
  const problems: string[] = [];
  const label = (file: string) => {
    const rel = path.relative(root, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
  };

  // Which layer set each path last, to name the source of each problem.
  const origins = new Map<string, string>();
  const merged: Json = {};
  const defaultFile = path.join(root, 'config', 'default.json');
  const layer = (data: unknown, source: string) => {
    if (!isObject(data)) return void problems.push(`${source}: expected a JSON object at the top level (found ${preview(data)})`);
    mergeInto(merged, movedSections(data), [], source, origins);
  };

  const defaults = readJson(defaultFile, label(defaultFile), problems, true);
  if (defaults === undefined) {
    // Without the defaults every field would be reported missing: report just the file.
    throw new ChronusError(ErrorCode.CONFIG_INVALID, 'the default configuration cannot be read:', { details: problems });
  }
  layer(defaults, label(defaultFile));
  if (localFile !== false) {
    const file = path.resolve(root, localFile ?? path.join('config', 'local.json'));
    const data = readJson(file, label(file), problems, localFile !== undefined);
    if (data !== undefined) layer(data, label(file));
  }
  for (const v of ENV_VARS) {
    const raw = env[v.name];
    if (raw === undefined || raw.trim() === '') continue;
    const patch = { [v.path[0]]: { [v.path[1]]: fromEnv(raw.trim(), v.kind) } };
    mergeInto(merged, patch, [], `env ${v.name}`, origins);
  }

  const sourceOf = (p: readonly PropertyKey[]) => {
    for (let n = p.length; n > 0; n--) {
      const s = origins.get(key(p.slice(0, n)));
      if (s) return s;
    }
    return label(defaultFile);
  };

  const parsed = ConfigSchema.safeParse(merged, PARSE_ONCE);
  if (!parsed.success) {
    for (const line of formatZodIssues(parsed.error, sourceOf, merged)) {
      const v = ENV_VARS.find((e) => line.startsWith(`env ${e.name}: `));
      problems.push(v ? `${line}; ${v.name} must be ${v.allowed}` : line);
    }
  }

  // Paths: checked on the merged values even when other fields are bad, so one run lists everything.
  const escapes: string[] = [];
  const resolved = new Map<string, string>();
  const fields = pathFields(merged);
  for (const p of fields) {
    const value = (merged[p[0]] as Json | undefined)?.[p[1]];
    if (typeof value !== 'string' || value === '') continue;
    const abs = path.resolve(root, value);
    const rel = path.relative(root, abs);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      escapes.push(
        `${sourceOf(p)}: ${p.join('.')}: must stay inside the project folder ${root} (found ${preview(value)}); ` +
          'use a path relative to it without ".."',
      );
    } else resolved.set(p.join('.'), abs);
  }
  problems.push(...escapes);

  if (problems.length > 0 || !parsed.success) {
    const code = problems.length === escapes.length ? ErrorCode.PATH_ESCAPE : ErrorCode.CONFIG_INVALID;
    const n = problems.length;
    throw new ChronusError(code, `${n} problem${n === 1 ? '' : 's'} in the configuration:`, {
      details: problems,
      hint: 'Fix each value in the file or environment variable named; config/default.json lists every key with its default.',
    });
  }

  const config = parsed.data;
  for (const p of fields) ((config as unknown as Json)[p[0]] as Json)[p[1]] = resolved.get(p.join('.'));
  return config;
}

/** Reads and parses a JSON file; a problem (missing when required, unreadable, bad JSON) is recorded, not thrown. */
function readJson(file: string, source: string, problems: string[], required: boolean): unknown {
  if (!existsSync(file)) {
    if (required) problems.push(`${source}: file not found at ${file}; create it or fix the path`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${source}: cannot read the file (${(error as Error).message})`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push(`${source}: not valid JSON (${(error as Error).message}); fix the syntax`);
    return undefined;
  }
}

/** Deep merge: objects merge key by key; arrays, scalars and null replace. Records who set each path. */
function mergeInto(target: Json, patch: Json, at: string[], source: string, origins: Map<string, string>): void {
  for (const [k, value] of Object.entries(patch)) {
    const p = [...at, k];
    origins.set(key(p), source);
    const current = Object.hasOwn(target, k) ? target[k] : undefined;
    if (isObject(value)) {
      const next = isObject(current) ? current : {};
      // defineProperty: a "__proto__" key from JSON stays a plain (and then rejected) key.
      Object.defineProperty(target, k, { value: next, enumerable: true, writable: true, configurable: true });
      mergeInto(next, value, p, source, origins);
    } else Object.defineProperty(target, k, { value, enumerable: true, writable: true, configurable: true });
  }
}

/** Env values are strings: numbers are parsed when they look like one (otherwise kept, so the error shows them). */
function fromEnv(raw: string, kind: EnvKind): unknown {
  if (kind === 'string') return raw;
  if (kind === 'device') return /^\d+$/.test(raw) ? Number(raw) : raw;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : raw;
}

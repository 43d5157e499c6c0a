/**
 * Coded errors; zod issues as readable lines come from the one formatter (plugin-sdk/zod-issues.ts,
 * which plugins use too), re-exported here for the kernel.
 *
 * Every kernel error is a `ChronusError` with a stable `code`. Its message starts with the code and
 * says what was expected, what was found and how to fix it; `details` holds one line per problem
 * (the same lines are in the message, indented) so callers can send them over OSC or list them.
 */

/**
 * Every code the engine, its transport and the `chronus` command report, each with how to fix it by
 * default (a `ChronusError` may give a more precise hint of its own). Codes are stable: old clients
 * read them in `/error <address> <code> <message>` and `/engine/error <id> <code> <message>`.
 * A plugin's own codes (e.g. the LFO's LFO_UNKNOWN_TARGET) are the plugin's, not listed here.
 */
const CATALOGUE = {
  CONFIG_INVALID: 'Fix the keys listed in config/local.json (or the environment variable named); config/default.json shows every key and its default.',
  PLUGIN_MANIFEST_INVALID: "Fix the fields listed in the plugin's plugin.json; any plugins/*/plugin.json shows the shape.",
  PLUGIN_API_MISMATCH: 'Update the plugin to the API of plugin-sdk/types.ts and set its "apiVersion", or run it on a Chronus of its API.',
  PLUGIN_MODULE_CONFLICT: 'Rename the module in one of the two manifests, or disable one of the plugins (plugins.<id>.enabled = false).',
  PLUGIN_ID_CONFLICT: 'A plugin id names one folder: give the new folder an id of its own, or remove one of the two.',
  PLUGIN_LOAD_FAILED: 'Fix what the message names (file and line) and save: the plugin loads again; a version already playing keeps playing meanwhile.',
  PLUGIN_UNKNOWN: '/engine/plugins lists the loaded plugins by id.',
  /** A call into a plugin's control half ran past engine.controlCallMs (stopped there). */
  PLUGIN_CONTROL_HUNG: "Fix the loop in the plugin's control half and save; long work belongs in smaller steps (timers) or awaits.",
  /** A control half asked for an OSC address another route already has. */
  PLUGIN_ROUTE_CONFLICT: 'Choose another address; /engine/routes lists the ones in use.',
  /** A plugin threw, or wrote a runaway or non-finite value: it is bypassed (or rolled back) and the engine plays on. */
  PLUGIN_FAULT: 'Fix the plugin and save (hot reload), or /engine/plugin/reset <id> to try a fresh instance.',
  /** A plugin stalled the audio thread: the thread was replaced and the plugin kept out. */
  PLUGIN_HUNG: 'Fix the loop or wait in the plugin and save: it is tried again; until then it is kept out (/engine/plugins shows it quarantined).',
  /** A plugin's control half brought the engine process down (its memory, or a loop of awaits): the supervisor restarted the engine without it. */
  PLUGIN_HELD_OUT: "Fix the plugin's control half and save: it loads again. Until then its routes answer this error.",
  AUDIO_RESTART_FAILED: 'The audio thread could not be replaced after a hang: restart the engine.',
  OSC_UNKNOWN_ADDRESS: '/engine/routes lists every address.',
  OSC_BAD_ARGS: 'Send the arguments the route takes: /engine/routes describes each route, /engine/schema gives every range.',
  OSC_BAD_PACKET: 'Send OSC 1.0 messages or bundles (liblo, python-osc and the osc package do).',
  /** A route's handler failed (a coded error of its own keeps its code). */
  OSC_HANDLER_FAILED: 'The message says what failed; the engine plays on.',
  /** A route's asynchronous handler ran longer than the router waits for one (10 s): pings and waits went on without it. */
  OSC_HANDLER_LATE: 'Its answer comes when it finishes; a handler that never finishes is a bug in its plugin.',
  OSC_REPLY_UNSENDABLE: 'Ask for less at once, or raise osc.maxPacketBytes.',
  /** A timed message further ahead than engine.scheduleHorizonSeconds. */
  EVENT_TOO_FAR_AHEAD: 'Schedule closer to now, or raise engine.scheduleHorizonSeconds.',
  /** No room left in the audio thread's queue for events ahead. */
  EVENT_QUEUE_FULL: 'Send fewer timed messages at once, or closer to when they play.',
  PATH_ESCAPE: 'Give a plain file name: files stay inside their folder (e.g. patterns/).',
  /** A control half's HTTP server could not listen (port in use, address not on this machine). */
  HTTP_LISTEN_FAILED: 'Choose another port in plugins.<id>.port (0 picks a free one), or stop the program that holds it.',
  /** A control half asked to listen beyond loopback while osc.allow lists no sender. */
  HTTP_NOT_ALLOWED: 'List the machines allowed in osc.allow (the same list OSC uses), or listen on "127.0.0.1".',
  /** A control half's mDNS announcement was malformed. */
  MDNS_FAILED: 'Give a name (1-63 characters), a service type without underscores (e.g. "oscjson"), tcp or udp, and a port.',
  // The OSC transport (kernel/osc/osc-transport.ts): mistakes in what the engine sends, bind failures.
  OSC_ADDRESS_INVALID: 'An OSC address is a string that starts with "/" and has no NUL.',
  OSC_ARG_INVALID: 'Send numbers, strings, booleans, blobs, or typed { type, value } arguments.',
  OSC_JSON_PREFIX_AMBIGUOUS: 'Send one of the two trailing integer prefix arguments as "f" or "s".',
  OSC_JSON_UNSERIALIZABLE: 'Reply with plain JSON values (no cycles, BigInt or functions).',
  OSC_PACKET_TOO_BIG: 'Send structured data with sendJson (it splits), or raise osc.maxPacketBytes.',
  OSC_OPTIONS_INVALID: 'Choose a port 0–65535 and an osc.maxPacketBytes within the range the message gives.',
  OSC_BIND_FAILED: 'Is another engine using the port? Choose another with CHRONUS_OSC_PORT or osc.port.',
  OSC_TRANSPORT_CLOSED: 'The socket is closed (the engine is stopping): nothing more is sent.',
  OSC_SEND_FAILED: 'The OS refused the datagram (host unreachable, buffer full); the engine plays on.',
  // The chronus command (cli/).
  OSC_REQUEST_TIMEOUT: 'Is the engine running? Start it with npm start; --host, --port and --timeout choose where and how long to ask.',
  OSC_CLIENT_CLOSED: 'The client was closed while it waited for a reply.',
  NEW_PLUGIN_REFUSED: 'chronus new-plugin <name>: the message says what to change.',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof CATALOGUE;

/** Every code by name: `ErrorCode.CONFIG_INVALID` is 'CONFIG_INVALID'. */
export const ErrorCode = Object.freeze(Object.fromEntries(Object.keys(CATALOGUE).map((c) => [c, c]))) as { readonly [C in ErrorCode]: C };

/** How to fix an error with this code by default, or undefined for a code that is not the engine's (a plugin's own). */
export function errorHint(code: string): string | undefined {
  return Object.hasOwn(CATALOGUE, code) ? CATALOGUE[code as ErrorCode] : undefined;
}

export interface ChronusErrorOptions {
  /** One line per problem; appended to the message, indented. */
  readonly details?: readonly string[];
  /** How to fix it; appended as the last line of the message. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class ChronusError extends Error {
  override readonly name = 'ChronusError';
  readonly code: ErrorCode;
  /** The summary as given, without the code, details or hint. */
  readonly summary: string;
  readonly details: readonly string[];
  /** How to fix it: the hint given, else the code's default (errorHint). Only a given hint is part of the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, summary: string, options: ChronusErrorOptions = {}) {
    const details = options.details ?? [];
    const lines = [`${code}: ${summary}`, ...details.map((d) => `  ${d}`)];
    if (options.hint) lines.push(options.hint);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.summary = summary;
    this.details = details;
    this.hint = options.hint ?? errorHint(code);
  }
}

export function isChronusError(error: unknown, code?: ErrorCode): error is ChronusError {
  return error instanceof ChronusError && (code === undefined || error.code === code);
}

export { formatArgIssues, formatZodIssues, preview, type IssueSource } from '../../plugin-sdk/zod-issues.ts';

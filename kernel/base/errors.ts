/**
 * Coded errors; zod issues as readable lines come from the one formatter (plugin-sdk/zod-issues.ts,
 * which plugins use too), re-exported here for the kernel.
 *
 * Every kernel error is a `ChronusError` with a stable `code`. Its message starts with the code and
 * says what was expected, what was found and how to fix it; `details` holds one line per problem
 * (the same lines are in the message, indented) so callers can send them over OSC or list them.
 */

export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  PLUGIN_MANIFEST_INVALID: 'PLUGIN_MANIFEST_INVALID',
  PLUGIN_API_MISMATCH: 'PLUGIN_API_MISMATCH',
  PLUGIN_MODULE_CONFLICT: 'PLUGIN_MODULE_CONFLICT',
  PLUGIN_ID_CONFLICT: 'PLUGIN_ID_CONFLICT',
  PLUGIN_LOAD_FAILED: 'PLUGIN_LOAD_FAILED',
  PLUGIN_UNKNOWN: 'PLUGIN_UNKNOWN',
  OSC_UNKNOWN_ADDRESS: 'OSC_UNKNOWN_ADDRESS',
  OSC_BAD_ARGS: 'OSC_BAD_ARGS',
  OSC_BAD_PACKET: 'OSC_BAD_PACKET',
  OSC_REPLY_UNSENDABLE: 'OSC_REPLY_UNSENDABLE',
  /** A timed message further ahead than engine.scheduleHorizonSeconds. */
  EVENT_TOO_FAR_AHEAD: 'EVENT_TOO_FAR_AHEAD',
  /** No room left in the audio thread's queue for events ahead. */
  EVENT_QUEUE_FULL: 'EVENT_QUEUE_FULL',
  PATTERN_INVALID: 'PATTERN_INVALID',
  PATH_ESCAPE: 'PATH_ESCAPE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
  readonly hint: string | undefined;

  constructor(code: ErrorCode, summary: string, options: ChronusErrorOptions = {}) {
    const details = options.details ?? [];
    const lines = [`${code}: ${summary}`, ...details.map((d) => `  ${d}`)];
    if (options.hint) lines.push(options.hint);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.summary = summary;
    this.details = details;
    this.hint = options.hint;
  }
}

export function isChronusError(error: unknown, code?: ErrorCode): error is ChronusError {
  return error instanceof ChronusError && (code === undefined || error.code === code);
}

export { formatArgIssues, formatZodIssues, preview, type IssueSource } from '../../plugin-sdk/zod-issues.ts';

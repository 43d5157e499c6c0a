/** The recorder's error codes (its replies `/error <address> <code> <message>`) and how it reads an error's message. */

export const RecordError = {
  NOT_LOADED: 'RECORDER_NOT_LOADED',
  CONFIG_INVALID: 'RECORDER_CONFIG_INVALID',
  BUSY: 'RECORD_BUSY',
  NOT_RECORDING: 'RECORD_NOT_RECORDING',
  BAD_FORMAT: 'RECORD_BAD_FORMAT',
  OPEN_FAILED: 'RECORD_OPEN_FAILED',
  WRITE_FAILED: 'RECORD_WRITE_FAILED',
  INTERRUPTED: 'RECORD_INTERRUPTED',
} as const;

/**
 * The message of an error. Not `instanceof Error`: this code runs in the plugin's own realm, and the
 * errors of files and the SDK come from the engine's, whose `Error` is another object.
 */
export function errorMessage(e: unknown): string {
  const m = (e as { message?: unknown } | null | undefined)?.message;
  return typeof m === 'string' ? m : String(e);
}

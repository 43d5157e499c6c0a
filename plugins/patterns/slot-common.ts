/** Constants, key schemas and the refusal error shared by the slot schema, its migrations and the store. */
import { CodedError, MODULE_ID_RE, PLUGIN_ID_RE, z } from 'plugin-sdk';

export const SLOT_FORMAT = 'chronus-pattern';
export const SCHEMA_VERSION = 2;
export const MIN_SLOT = 1;
export const MAX_SLOT = 128;
/** A slot's name (`/pattern/save <slot> <name>`): at most this many characters, no control characters. */
export const MAX_NAME_CHARS = 128;
/** Larger files are refused before parsing. */
export const MAX_SLOT_BYTES = 8 * 1024 * 1024;
/** A parameter value beyond this magnitude is hostile, not a setting. */
export const MAX_PARAM_MAGNITUDE = 1e9;

export const moduleKey = z
  .string()
  .max(64, { error: 'must be at most 64 characters' })
  .regex(MODULE_ID_RE, { error: 'must be a module id: lowercase letters, digits and "_", starting with a letter (e.g. "voice1")' });
export const paramKey = z
  .string()
  .max(64, { error: 'must be at most 64 characters' })
  .regex(/^[a-z][a-z0-9_]*(\/[a-z][a-z0-9_]*){0,3}$/, { error: 'must be a parameter name: lower_snake segments joined by "/" (e.g. "filter/freq")' });
export const pluginKey = z
  .string()
  .max(64, { error: 'must be at most 64 characters' })
  .regex(PLUGIN_ID_RE, { error: 'must be a plugin id: lowercase letters, digits and "-", starting with a letter' });
export const slotName = z
  .string()
  .max(MAX_NAME_CHARS, { error: `must be at most ${MAX_NAME_CHARS} characters` })
  .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'must not contain control characters' });
export const paramValue = z.number().min(-MAX_PARAM_MAGNITUDE).max(MAX_PARAM_MAGNITUDE);

export const PATTERN_INVALID = 'PATTERN_INVALID';

export function refuse(label: string, details: string[], summary = `${label} is refused:`): CodedError {
  return new CodedError(PATTERN_INVALID, summary, {
    details,
    hint: 'Nothing was changed: the engine keeps its current state. Fix or replace the file, or save the slot again.',
  });
}


/**
 * Coded errors and the one place that turns zod issues into readable lines.
 *
 * Every kernel error is a `ChronusError` with a stable `code`. Its message starts with the code and
 * says what was expected, what was found and how to fix it; `details` holds one line per problem
 * (the same lines are in the message, indented) so callers can send them over OSC or list them.
 */
import type { z } from 'zod';

export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  PLUGIN_MANIFEST_INVALID: 'PLUGIN_MANIFEST_INVALID',
  PLUGIN_API_MISMATCH: 'PLUGIN_API_MISMATCH',
  PLUGIN_MODULE_CONFLICT: 'PLUGIN_MODULE_CONFLICT',
  PLUGIN_ID_CONFLICT: 'PLUGIN_ID_CONFLICT',
  PLUGIN_LOAD_FAILED: 'PLUGIN_LOAD_FAILED',
  PLUGIN_UNKNOWN: 'PLUGIN_UNKNOWN',
  /** A control half's call ran past engine.controlCallMs (stopped there). */
  PLUGIN_CONTROL_HUNG: 'PLUGIN_CONTROL_HUNG',
  /** A control half asked for an OSC address another route already has. */
  PLUGIN_ROUTE_CONFLICT: 'PLUGIN_ROUTE_CONFLICT',
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

/** Where a problem came from: a fixed label (a file name) or one chosen per issue path (config layers). */
export type IssueSource = string | ((path: readonly PropertyKey[]) => string);

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

const UNKNOWN = Symbol('unknown');
const MAX_FOUND = 80;

/**
 * One line per issue: `<source>: <dotted.path>: <message> (found <JSON of the value, truncated>)`.
 *
 * zod v4 does not keep the offending value on an issue (unless parsed with `{ reportInput: true }`,
 * which puts it in `issue.input`), so pass the parsed `input` and the value is found by walking the
 * path. Unions are flattened to the branch that matched the value's shape; unknown keys get a line each.
 */
export function formatZodIssues(error: z.ZodError, source: IssueSource, input: unknown = UNKNOWN): string[] {
  const hasInput = input !== UNKNOWN;
  const lines: string[] = [];
  const label = (path: Path) => (typeof source === 'string' ? source : source(path));
  const line = (path: Path, message: string, found: unknown) => {
    const where = path.length ? `${dotted(path)}: ` : '';
    const tail = found === UNKNOWN ? '' : ` (${found === undefined ? 'missing' : `found ${preview(found)}`})`;
    lines.push(`${label(path)}: ${where}${message}${tail}`);
  };
  const valueAt = (issue: { path: Path; input?: unknown }, path: Path): unknown => {
    if ('input' in issue) return issue.input;
    return hasInput ? walk(input, path) : UNKNOWN;
  };

  const visit = (issue: Issue, prefix: Path) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const where = 'input' in issue ? issue.input : hasInput ? walk(input, path) : UNKNOWN;
      for (const key of issue.keys) {
        const found = where === UNKNOWN ? UNKNOWN : walk(where, [key]);
        line([...path, key], 'unknown key: remove it or check the spelling', found);
      }
      return;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = bestBranch(issue.errors);
      if (branch) {
        for (const inner of branch) visit(inner, path);
        return;
      }
      const found = valueAt(issue, path);
      line(path, `must be ${issue.errors.map((b) => expectation(b[0]!)).join(' or ')}`, found);
      return;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues[0];
      const key = path.at(-1);
      line(path, `invalid key: ${inner ? describe(inner, key) : issue.message}`, key);
      return;
    }
    const found = valueAt(issue, path);
    line(path, describe(issue, found), found);
  };

  for (const issue of error.issues) visit(issue, []);
  return lines;
}

/** A branch that matched the value's shape (its issues are not a type mismatch of the value itself), fewest issues first. */
function bestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const mismatch = (i: Issue) =>
    i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value' || i.code === 'invalid_union');
  const matched = branches.filter((b) => b.length > 0 && !b.some(mismatch));
  return matched.sort((a, b) => a.length - b.length)[0];
}

function expectation(issue: Issue | undefined): string {
  if (!issue) return 'valid';
  if (issue.code === 'invalid_type') return noun(issue.expected);
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v)).join(' or ');
  return issue.message;
}

function describe(issue: Issue, found: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return found === undefined ? `is required: expected ${noun(issue.expected)}` : `expected ${noun(issue.expected)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const bound = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      if (issue.origin === 'string') return `must have ${op} ${bound} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${op} ${bound} items`;
      return `must be ${op} ${bound}`;
    }
    default:
      return issue.message;
  }
}

function noun(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'null' || expected === 'undefined') return expected;
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function walk(value: unknown, path: Path): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function dotted(path: Path): string {
  return path.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.').replace(/\.\[/g, '[');
}

/** JSON of a value, cut to a readable length. */
export function preview(value: unknown, max = MAX_FOUND): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

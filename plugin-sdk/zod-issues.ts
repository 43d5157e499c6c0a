/**
 * The one formatter of zod issues (kernel and plugins alike): readable lines that say where the
 * problem is, what was expected and what was found.
 *
 * - `formatZodIssues(error, source, input)`: documents (config, manifests, slot files, states), one
 *   line per issue: `<source>: <dotted.path>: <message> (found <value>)`, in its own words.
 * - `formatArgIssues(error)`: an OSC argument list, one line in all: `argument 2: <the route's
 *   message>; …` — routes write their messages for people (`{ error: 'expected a slot number 1–128' }`),
 *   and old clients read them as they are.
 */
import type { z } from 'zod';

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
  const label = (path: Path) => (typeof source === 'string' ? source : source(path));
  return issueLines(error, input, (path) => [label(path), path.length ? dotted(path) : ''].filter((s) => s !== '').join(': '), false);
}

/**
 * An OSC argument list's issues as one line: `argument <n>: <message>` (`arguments: …` for the list
 * as a whole), joined with "; ". Each message is the schema's own, as the route wrote it.
 */
export function formatArgIssues(error: z.ZodError): string {
  return issueLines(error, UNKNOWN, (path) => (path.length > 0 && typeof path[0] === 'number' ? `argument ${path[0] + 1}` : 'arguments'), true).join('; ');
}

/**
 * The walk both share: one line per issue, `<where>: <message>[ (found …)]`. In its own words, unions
 * flattened to the branch that fits and unknown keys one line each; or (`schemaMessages`) each
 * issue's message as the schema wrote it.
 */
function issueLines(error: z.ZodError, input: unknown, whereOf: (path: Path) => string, schemaMessages: boolean): string[] {
  const hasInput = input !== UNKNOWN;
  const lines: string[] = [];
  const line = (path: Path, message: string, found: unknown) => {
    const where = whereOf(path);
    const tail = found === UNKNOWN ? '' : ` (${found === undefined ? 'missing' : `found ${preview(found)}`})`;
    lines.push(`${where ? `${where}: ` : ''}${message}${tail}`);
  };
  if (schemaMessages) {
    for (const issue of error.issues) line(issue.path, issue.message, UNKNOWN);
    return lines;
  }
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

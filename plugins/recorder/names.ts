/**
 * Recording names (control half, pure): a client's name becomes one safe file-name component that
 * always lands inside the recordings folder, and never-overwrite candidates for it. (The folder's
 * confinement, `ctx.files`, refuses any name that would leave it anyway: this is the first line.)
 *
 * `sanitizeName` rules, in order: Unicode NFKC (full-width and compatibility forms fold to plain ones;
 * letters of every script are kept); `/` and `\` become `_`; anything but letters, marks, digits, `.`,
 * `_` and `-` (control characters, spaces, bidi and zero-width controls, emoji, `:` …) becomes `_`;
 * runs of dots become one dot (no `..`), runs of `_` one `_`; a trailing `.wav` is dropped; leading and
 * trailing `.`, `_`, `-` are trimmed (no hidden files, nothing that looks like an option); at most
 * MAX_NAME_BYTES bytes of UTF-8, cut at a character boundary; Windows device names get a `_` suffix.
 * What is left empty becomes the default `session_YYYYMMDD_HHMMSS`.
 */
/** Bytes of UTF-8 a sanitized name may take (a file name may take 255; room is left for suffixes). */
export const MAX_NAME_BYTES = 120;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYYMMDD_HHMMSS` in local time. */
export function timestamp(d: Date = new Date()): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}_${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

export interface SafeName {
  /** One path component: no separators, no `..`, no control characters, ≤ MAX_NAME_BYTES bytes, no extension. */
  readonly name: string;
  /** True when the client gave no usable name and the default `session_<timestamp>` was chosen. */
  readonly isDefault: boolean;
}

const TRIM = /^[._-]+|[._-]+$/gu;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/iu;

export function sanitizeName(raw: unknown, now: Date = new Date()): SafeName {
  let s = typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
  s = s.normalize('NFKC');
  s = s.replace(/[/\\]/gu, '_');
  s = s.replace(/[^\p{L}\p{M}\p{N}._-]/gu, '_');
  s = s.replace(/\.{2,}/gu, '.').replace(/_{2,}/gu, '_');
  s = s.replace(TRIM, '');
  s = s.replace(/\.wav$/iu, '').replace(TRIM, '');
  s = truncateUtf8(s, MAX_NAME_BYTES).replace(TRIM, '');
  if (RESERVED.test(s)) s = `${s}_`;
  if (s === '') return { name: `session_${timestamp(now)}`, isDefault: true };
  return { name: s, isDefault: false };
}

/** Bytes of one code point in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD). */
function utf8Bytes(ch: string): number {
  const c = ch.codePointAt(0) ?? 0;
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/** Bytes of `s` in UTF-8. */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) n += utf8Bytes(ch);
  return n;
}

/** The longest prefix of `s` (whole code points; a mark is never separated from its base) within `max` UTF-8 bytes. */
export function truncateUtf8(s: string, max: number): string {
  if (utf8Length(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = utf8Bytes(ch);
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  // Drop trailing combining marks whose base may belong with them beyond the cut.
  return out.replace(/\p{M}+$/u, '');
}

/**
 * Names to try in order until one does not exist yet: `name`, then `name_<timestamp>`, then
 * `name_<timestamp>_2`, `_3`, … (a default name already holds the timestamp: `session_…_2`, …).
 * `ext` is appended (".wav", or "" for a stems folder).
 */
export function* candidateNames(safe: SafeName, ext: string, now: Date = new Date(), max = 1000): Generator<string> {
  yield `${safe.name}${ext}`;
  const stem = safe.isDefault ? safe.name : `${safe.name}_${timestamp(now)}`;
  if (!safe.isDefault) yield `${stem}${ext}`;
  for (let k = 2; k <= max; k++) yield `${stem}_${k}${ext}`;
}

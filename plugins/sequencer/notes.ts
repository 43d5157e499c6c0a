/**
 * Note lists for sequencer tracks (control side; pure, no imports).
 *
 * A note list is a string of tokens separated by commas and/or whitespace. Each token is:
 * - Hz when it contains a '.' (`41.2`, `110.0`),
 * - a MIDI note number when it is bare digits 0–127 (`36` → 65.41 Hz; 69 = A4 = 440 Hz); bare digits
 *   above 127 are Hz (`392` = 392 Hz: songs written for the old engine mix `329.63` and `392`),
 * - otherwise a note name: a letter A–G, an optional `#` or `b`, an optional octave (default 4;
 *   C4 = MIDI 60 = 261.63 Hz, so `C#4`, `Bb2`, `G1`, `c-1`).
 * Music Chronus accepted the same tokens but only comma separated, read every bare number as MIDI
 * (392 became an ultrasonic note the voice clamped) and skipped bad tokens silently; here a bad token
 * is refused with its position and the reason.
 */

export const MAX_NOTES = 1024;
/** The frequencies a note may have (the voices clamp further to their own range). */
export const MIN_NOTE_HZ = 1;
export const MAX_NOTE_HZ = 24000;
/** The highest MIDI note number; a bare number above it is a frequency in Hz. */
export const MAX_MIDI_NOTE = 127;

const NOTE_OFFSETS: Readonly<Record<string, number>> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const NAME_RE = /^([A-Ga-g])([#b]?)(-?\d{1,2})?$/;

export function midiToHz(midi: number): number {
  return 440 * Math.pow(2, (midi - 69) / 12);
}

/** `C#4` → 277.18; undefined when the text is not a note name. */
export function noteNameToHz(name: string): number | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const octave = m[3] === undefined ? 4 : Number(m[3]);
  const accidental = m[2] === '#' ? 1 : m[2] === 'b' ? -1 : 0;
  const midi = (octave + 1) * 12 + NOTE_OFFSETS[m[1].toUpperCase()] + accidental;
  return midiToHz(midi);
}

export type NoteParse = { ok: true; notes: number[] } | { ok: false; error: string };

/** One token to Hz, or the reason it is not a note. */
export function parseNoteToken(token: string): { hz: number } | { error: string } {
  if (token.includes('.')) {
    if (!/^[+]?(\d+\.?\d*|\.\d+)$/.test(token)) return { error: `"${token}" looks like Hz (it has a '.') but is not a number` };
    const hz = Number(token);
    if (!(hz >= MIN_NOTE_HZ && hz <= MAX_NOTE_HZ)) return { error: `"${token}" Hz is outside ${MIN_NOTE_HZ}–${MAX_NOTE_HZ} Hz` };
    return { hz };
  }
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n <= MAX_MIDI_NOTE) return { hz: midiToHz(n) };
    if (n > MAX_NOTE_HZ) return { error: `"${token}" is above MIDI 127, so it is read as Hz, and ${token} Hz is outside ${MIN_NOTE_HZ}–${MAX_NOTE_HZ} Hz` };
    return { hz: n };
  }
  const hz = noteNameToHz(token);
  if (hz === undefined) return { error: `"${token}" is not a note: use Hz with a '.' (110.0) or above 127 (392), a MIDI number 0–127 (36) or a name (C#4, Bb2)` };
  if (!(hz >= MIN_NOTE_HZ && hz <= MAX_NOTE_HZ)) return { error: `note ${token} (${hz.toFixed(2)} Hz) is outside ${MIN_NOTE_HZ}–${MAX_NOTE_HZ} Hz` };
  return { hz };
}

/** Parse a note list; an empty or blank string is an empty list (the track plays its base_freq). */
export function parseNotes(text: string): NoteParse {
  const tokens = text.split(/[\s,]+/).filter((t) => t.length > 0);
  if (tokens.length > MAX_NOTES) return { ok: false, error: `${tokens.length} notes; a track takes at most ${MAX_NOTES}` };
  const notes: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const r = parseNoteToken(tokens[i]);
    if ('error' in r) return { ok: false, error: `note ${i + 1}: ${r.error}` };
    notes.push(r.hz);
  }
  return { ok: true, notes };
}

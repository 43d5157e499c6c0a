/**
 * Moving stereo audio between a caller's arrays and a WebAssembly kernel's own copies of them (a
 * kernel reads and writes only its memory). The kernel's views hold its maximum block. A caller array
 * no longer than that is copied whole (one memcpy, and the span keeps its offset in the copy); a
 * longer one span by span, to offset 0.
 *
 * Thread: allocation-free; safe in `process`.
 */

export function copySpan(from: Float32Array, at: number, to: Float32Array, toAt: number, n: number): void {
  for (let i = 0; i < n; i++) to[toAt + i] = from[at + i];
}

/** Copies `inL/inR[start, start + n)` into the kernel's `kL/kR`; returns where the span starts there. */
export function loadStereo(inL: Float32Array, inR: Float32Array, start: number, n: number, kL: Float32Array, kR: Float32Array): number {
  if (inL.length <= kL.length && inR.length <= kR.length) {
    kL.set(inL);
    kR.set(inR);
    return start;
  }
  copySpan(inL, start, kL, 0, n);
  copySpan(inR, start, kR, 0, n);
  return 0;
}

/**
 * Adds a kernel's output into `outL/outR[start, start + n)`: the arrays are copied into `kL/kR`,
 * `mix(n, at)` adds into the copies at `at`, and the span is copied back.
 */
export function mixStereo(
  outL: Float32Array,
  outR: Float32Array,
  start: number,
  n: number,
  kL: Float32Array,
  kR: Float32Array,
  mix: (n: number, at: number) => void,
): void {
  const cap = kL.length;
  if (outL.length > cap || outR.length > cap) {
    copySpan(outL, start, kL, 0, n);
    copySpan(outR, start, kR, 0, n);
    mix(n, 0);
    copySpan(kL, 0, outL, start, n);
    copySpan(kR, 0, outR, start, n);
    return;
  }
  kL.set(outL);
  kR.set(outR);
  mix(n, start);
  if (outL.length === cap && outR.length === cap) {
    outL.set(kL);
    outR.set(kR);
  } else {
    copySpan(kL, start, outL, start, n);
    copySpan(kR, start, outR, start, n);
  }
}

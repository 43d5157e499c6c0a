/**
 * Adding a mono voice signal into stereo buses (l = r). Every function ADDS into both channels of
 * frames [start, end). Allocation-free: safe in `process`.
 */
import type { Bus, Param } from 'plugin-sdk';

/** Adds `src` into `bus`. */
export function addTo(bus: Bus, src: Float32Array, start: number, end: number): void {
  const l = bus.l;
  const r = bus.r;
  for (let i = start; i < end; i++) {
    l[i] += src[i];
    r[i] += src[i];
  }
}

/** Adds `g` × `src` into `bus`. */
export function addScaled(bus: Bus, src: Float32Array, start: number, end: number, g: number): void {
  const l = bus.l;
  const r = bus.r;
  for (let i = start; i < end; i++) {
    const x = src[i] * g;
    l[i] += x;
    r[i] += x;
  }
}

/** Adds `level` × `src` into `bus`: per sample from the param while it moves, nothing at rest at level 0. */
export function addSend(bus: Bus, src: Float32Array, start: number, end: number, level: Param): void {
  const l = bus.l;
  const r = bus.r;
  if (level.moving) {
    for (let i = start; i < end; i++) {
      const x = src[i] * level.next();
      l[i] += x;
      r[i] += x;
    }
    return;
  }
  const g = level.value;
  if (g <= 0) return;
  for (let i = start; i < end; i++) {
    const x = src[i] * g;
    l[i] += x;
    r[i] += x;
  }
}

/**
 * `src` into `main`, and × the send levels `levels[reverbAt]`, `levels[delayAt]` into `reverb` and
 * `delay`, in one pass when both are on. (The levels come by index: a number passed to a call V8
 * did not inline is boxed.)
 */
export function addWithSends(main: Bus, reverb: Bus, delay: Bus, src: Float32Array, start: number, end: number, levels: Float64Array, reverbAt: number, delayAt: number): void {
  const gr = levels[reverbAt];
  const gd = levels[delayAt];
  if (gr > 0 && gd > 0) {
    const ml = main.l;
    const mr = main.r;
    const rl = reverb.l;
    const rr = reverb.r;
    const dl = delay.l;
    const dr = delay.r;
    for (let i = start; i < end; i++) {
      const x = src[i];
      ml[i] += x;
      mr[i] += x;
      const xr = x * gr;
      rl[i] += xr;
      rr[i] += xr;
      const xd = x * gd;
      dl[i] += xd;
      dr[i] += xd;
    }
    return;
  }
  addTo(main, src, start, end);
  if (gr > 0) addScaled(reverb, src, start, end, gr);
  if (gd > 0) addScaled(delay, src, start, end, gd);
}

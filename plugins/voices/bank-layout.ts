/**
 * The voice bank's wasm memory: where the constants, the BLEP tables, the group records, the
 * look-ahead rows, the shared pending-output rows (W), the accumulators and the mono outputs lie,
 * and the fields of a group record. Shared by the kernel's code (bank-kernel.ts) and the JS side
 * that reads and writes lanes (bank.ts).
 */
import { BLEP_PHASES, BLEP_TAPS } from 'plugin-sdk';

const TAPS = BLEP_TAPS;
const PHASES = BLEP_PHASES;

/** Bytes per group record (4 lanes). Each field below is 16 bytes: one f32x4, or two f64x2 for P01/P23, INC01/INC23. */
export const GS = 288;
// Group record offsets (bytes).
export const P01 = 0;
export const P23 = 16;
export const INC01 = 32;
export const INC23 = 48;
export const IC1 = 64;
export const IC2 = 80;
// The filter's state-space coefficients (as Svf's): m11 = 2a1 − 1, m22 = 1 − 2a3, c1 = a2,
// c2 = 1 − a3, d = a3; the kernel derives b1 = 2a2 = c1 + c1, m12 = −b1, b2 = 2a3 = d + d (exact in
// float32: doubling commutes with rounding), so a lane's filter is 5 stores, not 8.
export const M11 = 96;
export const M22 = 112;
export const C1 = 128;
export const C2 = 144;
export const D = 160;
export const GAIN = 176;
export const GINC = 192;
export const PEAK = 208;
export const SR = 224;
export const SRI = 240;
export const SD = 256;
export const SDI = 272;

/** Constant slots (16 bytes each) at `consts`: f32x4 1, f64x2 1, then four lane masks (all ones in lane i). */
export const K_ONE = 0;
export const K_ONE64 = 16;
export const K_LANE = 32;

/** Byte offsets of the regions in the bank's memory. */
export interface Layout {
  /** Constants the kernel loads into locals (a v128.const would be rebuilt at every use). */
  consts: number;
  res: number;
  slo: number;
  groups: number;
  /** Each group's look-ahead: TAPS rows of 4 lanes, relative to the end of its last `render`. */
  la: number;
  w: number;
  accM: number;
  accR: number;
  accD: number;
  outM: number;
  outR: number;
  outD: number;
  pages: number;
}

export function layout(groups: number, maxBlock: number): Layout {
  const table = PHASES * TAPS * 4;
  const consts = 0;
  const res = 96;
  const slo = res + table;
  const g = slo + table;
  const la = g + groups * GS;
  const w = la + groups * TAPS * 16;
  const accM = w + (maxBlock + TAPS) * 16;
  const accR = accM + maxBlock * 16;
  const accD = accR + maxBlock * 16;
  const outM = accD + maxBlock * 16;
  const outR = outM + maxBlock * 4;
  const outD = outR + maxBlock * 4;
  const bytes = outD + maxBlock * 4;
  return { consts, res, slo, groups: g, la, w, accM, accR, accD, outM, outR, outD, pages: Math.ceil(bytes / 65536) };
}

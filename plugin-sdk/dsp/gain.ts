/**
 * Level conversions. Thread: any; allocation-free.
 *
 * Usage: `const g = dbToGain(-6)` (≈ 0.501), `gainToDb(0.5)` (≈ -6.02).
 */

/** Decibels to a linear amplitude factor: 10^(db/20). */
export function dbToGain(db: number): number {
  return Math.pow(10, db * 0.05);
}

/** A linear amplitude factor to decibels: 20·log10(|gain|); silence (or NaN) gives `floorDb` (default -240). */
export function gainToDb(gain: number, floorDb = -240): number {
  const a = gain < 0 ? -gain : gain;
  return a > 1e-12 ? 20 * Math.log10(a) : floorDb;
}

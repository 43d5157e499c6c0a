/** A promise, of this realm or another (a plugin's `Promise` is not this realm's): anything with a `then`. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

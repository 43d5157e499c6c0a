/**
 * The sequencer's clock, counted in samples (pure; no imports, no allocation after construction).
 *
 * Steps are 16ths: one step lasts `stepFrames = sampleRate × 60 / bpm / 4` frames (fractional).
 * Step `n` sits on the grid at `anchorFrame + (n − anchorStep) × stepFrames`; swing delays the odd
 * steps by `swing × stepFrames / 2` without moving the even ones, so the tempo never changes
 * (swing 0.6 plays a 65:35 pair). The sample an event lands on is the exact position rounded to the
 * nearest frame, computed afresh from the anchor for every step, so nothing drifts however long it runs.
 *
 * A tempo change re-anchors at the next step: the distance from "now" to that step's grid point is
 * scaled by the new/old step length, so the groove continues without a jump.
 */

export const STEPS_PER_BAR = 16;

/** Frames per 16th note. */
export function stepFrames(sampleRate: number, bpm: number): number {
  return (sampleRate * 60) / bpm / 4;
}

export class StepClock {
  /** Frames per step (fractional). */
  stepLen: number;
  /** Swing 0–0.6: odd steps are late by swing × stepLen / 2. */
  swing = 0;
  /** Grid frame (unrounded) of step `anchorStep`. */
  anchorFrame = 0;
  anchorStep = 0;
  /** The next step to play. */
  nextStep = 0;

  constructor(
    readonly sampleRate: number,
    bpm: number,
  ) {
    this.stepLen = stepFrames(sampleRate, bpm);
  }

  /** Unswung grid position of step n (frames, fractional). */
  grid(n: number): number {
    return this.anchorFrame + (n - this.anchorStep) * this.stepLen;
  }

  /** Exact (fractional) onset of step n, swing included. */
  exactOnset(n: number): number {
    return this.grid(n) + (n % 2 === 1 ? this.swing * 0.5 * this.stepLen : 0);
  }

  /** The sample step n starts on. */
  onset(n: number): number {
    return Math.round(this.exactOnset(n));
  }

  /** The sample a gate opened at step n closes on, after `gateFrac` of a step (at least one sample later). */
  gateOff(n: number, gateFrac: number, onsetFrame: number): number {
    const off = Math.round(this.exactOnset(n) + gateFrac * this.stepLen);
    return off > onsetFrame ? off : onsetFrame + 1;
  }

  /** Step 0 lands on `frame`. */
  start(frame: number): void {
    this.anchorFrame = frame;
    this.anchorStep = 0;
    this.nextStep = 0;
  }

  /**
   * New tempo from frame `now` on (the start of the next block): the next step's distance from `now`
   * is rescaled, so a step already under way keeps its place in the bar.
   */
  setBpm(bpm: number, now: number): void {
    const len = stepFrames(this.sampleRate, bpm);
    const g = this.grid(this.nextStep);
    this.anchorFrame = now + (g - now) * (len / this.stepLen);
    this.anchorStep = this.nextStep;
    this.stepLen = len;
  }

  /** New tempo from step n's grid point on (a bar-aligned load): step n keeps its frame exactly. */
  setBpmAtStep(bpm: number, n: number): void {
    this.anchorFrame = this.grid(n);
    this.anchorStep = n;
    this.stepLen = stepFrames(this.sampleRate, bpm);
  }
}

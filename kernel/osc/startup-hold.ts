/**
 * Messages that arrive while the engine starts (control thread). The OSC socket opens before the
 * audio thread and the plugins, so nothing sent early is lost: the kernel's own routes (ping, status,
 * routes…) answer at once, and every other message waits until the audio halves are in, then goes
 * through the router before the audio clock starts — so it is applied on the first block. The clock
 * then runs while the control halves start (`narrow`): what can play now goes through, what needs a
 * control half still starting (its routes, its modules' samples) waits until `release`. A sender's
 * messages keep their order: once one of them waits, the ones after it wait too (a `/engine/ping`
 * behind a held `/gate/…` still answers after it).
 */
import type { Remote, RouteMessage } from './osc-router.ts';

/** Messages held at most; later ones are refused with EVENT_QUEUE_FULL (the engine keeps its memory). */
export const MAX_HELD = 10_000;

export class StartupHold {
  private held: RouteMessage[] | null = [];
  /** Senders with a message waiting. */
  private readonly waiting = new Set<string>();

  constructor(
    /** Whether a route can answer now (a kernel route mapped before any plugin loads). */
    private answersNow: (address: string) => boolean,
    private readonly dispatch: (message: RouteMessage) => void,
    private readonly refuse: (remote: Remote | undefined, address: string) => void,
  ) {}

  accept(message: RouteMessage): void {
    if (this.held === null) return this.dispatch(message);
    const sender = message.remote ? `${message.remote.address}:${message.remote.port}` : '';
    if (!this.waiting.has(sender) && this.answersNow(message.address)) return this.dispatch(message);
    if (this.held.length >= MAX_HELD) return this.refuse(message.remote, message.address);
    this.waiting.add(sender);
    this.held.push(message);
  }

  /** From now on `answersNow` decides: the held messages it takes go to the router (in order), the rest wait for `release`. */
  narrow(answersNow: (address: string) => boolean): void {
    const held = this.held ?? [];
    this.held = [];
    this.waiting.clear();
    this.answersNow = answersNow;
    for (const message of held) this.accept(message);
  }

  /** Hand every held message to the router, in arrival order; from now on messages go straight through. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    this.waiting.clear();
    for (const message of held) this.dispatch(message);
  }
}

/**
 * The engine's console for people (control thread). The old engine printed its status, module list,
 * schema, sequencer status, pattern list and every error on its own console, and `chronusctl` users
 * read them there (chronusctl never reads replies). Chronus replies to the sender; this shows the
 * same replies on stdout as well, in the old engine's manner, and records the events among them in
 * the event log (engine_log.txt). `engine.console: false` quiets the console (the log keeps going).
 *
 * It sits between the router and the engine's replier (`wrap`), so it sees every reply a message
 * causes. With `osc.replyToSender: false` replies stop there: they are shown, not sent.
 */
import { LOCAL_ADDRESS } from '../osc/engine-replier.ts';
import type { EngineStatus } from './engine-status.ts';
import type { EventLog } from './event-log.ts';
import { plainArgs } from '../osc/osc-args.ts';
import type { Remote, Replier } from '../osc/osc-router.ts';
import { formatError, formatList, formatStatus, formatStatusReply } from './console-format.ts';

/** At most this many /error lines a second; the rest are counted and summed up in one line. */
export const MAX_ERROR_LINES_PER_SECOND = 20;

/** The kernel's replies that confirm something happened: one console line and one event each. */
const CONFIRMATIONS = new Set(['/engine/schema/file', '/engine/plugin/reset']);
/** Any reply confirms the same way when it says something started, stopped, was saved or loaded. */
const CONFIRMING = /\/(started|stopped|saved|loaded)$/;

function isConfirmation(address: string): boolean {
  return CONFIRMATIONS.has(address) || CONFIRMING.test(address);
}

export class EngineConsole {
  /** Print on stdout (off: `engine.console: false`, and for engines that do not listen). */
  enabled: boolean;
  private windowStart = 0;
  private shownInWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly write: (line: string) => void,
    enabled: boolean,
    private readonly events: EventLog | null = null,
    /** How a route says its JSON replies are shown (a plugin's `show`). */
    private readonly showOf: (address: string) => ((value: unknown) => string[]) | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.enabled = enabled;
  }

  /** Print lines (a banner block or one line each). */
  print(lines: readonly string[]): void {
    if (!this.enabled) return;
    for (const line of lines) this.write(line);
  }

  /** An /error: printed and logged, at most MAX_ERROR_LINES_PER_SECOND a second. */
  error(address: string, code: string, message: string): void {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      if (this.suppressed > 0) {
        const line = `[ERROR] … ${this.suppressed} more /error replies not shown (more than ${MAX_ERROR_LINES_PER_SECOND} a second)`;
        this.print([line]);
        this.events?.add(line.slice(8));
      }
      this.windowStart = t;
      this.shownInWindow = 0;
      this.suppressed = 0;
    }
    if (this.shownInWindow >= MAX_ERROR_LINES_PER_SECOND) {
      this.suppressed++;
      return;
    }
    this.shownInWindow++;
    this.print([formatError(address, code, message)]);
    this.events?.add(`ERROR ${address || '(packet)'} ${code}: ${message}`);
  }

  /** What a reply shows: its readable form for status and lists, one line for confirmations and errors. */
  reply(address: string, args: readonly unknown[]): void {
    const plain = plainArgs(args);
    if (address === '/error') {
      this.error(String(plain[0] ?? ''), String(plain[1] ?? ''), String(plain[2] ?? ''));
    } else if (address === '/engine/list') {
      this.print(formatList(String(plain[0] ?? '')));
    } else if (isConfirmation(address)) {
      const text = `${address} ${plain.map((a) => (typeof a === 'string' && a.startsWith('{') ? '(json)' : String(a))).join(' ')}`.trim();
      this.print([`[CHRONUS] ${text}`]);
      this.events?.add(text);
    }
  }

  /** What a structured reply shows: status blocks, and what a route says of its own replies (the pattern list). */
  replyJson(address: string, value: unknown): void {
    const show = this.showOf(address);
    if (address === '/engine/status') this.print(formatStatus(value as EngineStatus));
    else if (show) this.print(show(value));
    else if (address.endsWith('/status')) this.print(formatStatusReply(address, value));
  }

  /** A replier that shows every reply here, then sends it on (unless replies go nowhere: osc.replyToSender false; a plugin's own requests always get theirs). */
  wrap(inner: Replier, replyToSender: boolean): Replier {
    const show = (what: () => void): void => {
      try {
        what();
      } catch {
        // Showing a reply must never stop it from being sent.
      }
    };
    // A client inside the engine (a plugin's ctx.engine.send) reads its replies itself, whatever
    // osc.replyToSender says (that is about the network); only what happened is shown for it
    // (confirmations: something started or stopped), not the answers to its queries or its errors.
    const local = (remote: Remote) => remote.address === LOCAL_ADDRESS;
    return {
      send: (remote: Remote, address: string, args: readonly unknown[]) => {
        if (!local(remote) || isConfirmation(address)) show(() => this.reply(address, args));
        if (replyToSender || local(remote)) inner.send(remote, address, args);
      },
      sendJson: (remote: Remote, address: string, value: unknown) => {
        if (!local(remote)) show(() => this.replyJson(address, value));
        if (replyToSender || local(remote)) inner.sendJson(remote, address, value);
      },
    };
  }
}

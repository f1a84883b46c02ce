/** The injectable clock: services ask it for "now" so tests and simulations can move time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that starts at a chosen instant and then runs at real speed; it can be moved forward
 * (a test skipping 91 days, a simulation stepping through a year) and back to its own timeline.
 * Without a start it runs on the wall clock.
 */
export class SettableClock implements Clock {
  private readonly baseOffsetMs: number;
  private offsetMs: number;

  /** `startAt`: what the clock reads at wall-clock time `anchorMs` (default: now). */
  constructor(startAt?: Date, anchorMs: number = Date.now()) {
    if (startAt && Number.isNaN(startAt.getTime())) throw new RangeError('SettableClock: invalid start instant');
    this.baseOffsetMs = startAt ? startAt.getTime() - anchorMs : 0;
    this.offsetMs = this.baseOffsetMs;
  }

  /**
   * The clock's own timeline (without advances) as environment settings, so another process
   * (a web or worker process a test starts) runs on exactly the same time.
   */
  timelineEnv(): { CLOCK_START: string; CLOCK_STARTED_AT: string } {
    const anchor = Date.now();
    return { CLOCK_START: new Date(anchor + this.baseOffsetMs).toISOString(), CLOCK_STARTED_AT: String(anchor) };
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock forward (or back, with a negative amount) by `ms`. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Moves the clock to `at`; it runs on from there. */
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }

  /** Drops every advance: back on the timeline that started at the start instant. */
  reset(): void {
    this.offsetMs = this.baseOffsetMs;
  }
}

/** Parses an ISO-8601 instant with an explicit zone (`Z` or `+08:00`); throws a readable error otherwise. */
export function parseInstant(value: string, name: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const at = new Date(value);
  if (!ok || Number.isNaN(at.getTime())) throw new RangeError(`${name} must be an ISO-8601 instant with a zone, e.g. 2027-01-31T15:59:59Z; got "${value}"`);
  return at;
}

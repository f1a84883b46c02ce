import { parseInstant, SettableClock } from '../../server/platform/clock';

/**
 * The suite's clock: it starts at TEST_NOW (an ISO-8601 instant) or, without it, at the real time,
 * runs at real speed, and tests move it forward with `advance(ms)`; after each test it returns to
 * its own timeline.
 */
export function createTestClock(testNow: string | undefined = process.env.TEST_NOW): SettableClock {
  return new SettableClock(testNow ? parseInstant(testNow, 'TEST_NOW') : undefined);
}

// Human-readable order numbers (PO20260523-000042): a sequence per business day in `order_counters`,
// taken a block at a time, so placing an order usually needs no round trip for its number. Numbers
// are unique (the counter's $inc is atomic; Order.orderNo has a unique index) and increase within a
// process; across processes they interleave, and what is left of a block when its process stops or
// the day ends is never used.
// NOTE: an order number is a reference for people, not a fiscal number: gaps are allowed.
import { isDuplicateKey } from '../../platform/mongo';
import { businessDay } from '../../platform/time';
import { outsideUnitOfWork } from '../../platform/unit-of-work';
import { OrderCounter } from './orders.model';

/** How many numbers one update of the counter takes; the next block is taken when half is left. */
export const ORDER_NUMBER_BLOCK = 20;

interface Range {
  next: number;
  last: number;
}

/** One business day's numbers held by this process. */
class DayNumbers {
  private readonly ranges: Range[] = [];
  private taking: Promise<void> | undefined;

  constructor(readonly day: string) {}

  private left(): number {
    return this.ranges.reduce((n, r) => n + r.last - r.next + 1, 0);
  }

  async take(count: number): Promise<number[]> {
    const taken: number[] = [];
    while (taken.length < count) {
      const range = this.ranges[0];
      if (!range) {
        await this.refill(count - taken.length);
        continue;
      }
      taken.push(range.next);
      range.next += 1;
      if (range.next > range.last) this.ranges.shift();
    }
    if (this.left() <= ORDER_NUMBER_BLOCK / 2) this.refill(ORDER_NUMBER_BLOCK).catch(() => undefined);
    return taken;
  }

  /** Takes the next block from the counter; callers that need numbers meanwhile share the update. */
  private refill(need: number): Promise<void> {
    this.taking ??= (async () => {
      const size = Math.max(ORDER_NUMBER_BLOCK, need);
      // NOTE: outside the caller's transaction: a block is taken for good, whatever the order's fate.
      const counter = await outsideUnitOfWork(() =>
        OrderCounter.findOneAndUpdate({ _id: `PO${this.day}` }, { $inc: { seq: size } }, { upsert: true, returnDocument: 'after' }).lean<{ seq: number }>(),
      );
      this.ranges.push({ next: counter!.seq - size + 1, last: counter!.seq });
    })().finally(() => {
      this.taking = undefined;
    });
    return this.taking;
  }
}

let held: DayNumbers | undefined;

/** The next `count` order numbers of the business day of `at`. */
export async function nextOrderNos(at: Date, count = 1): Promise<string[]> {
  const day = businessDay(at).replace(/-/g, '');
  if (held?.day !== day) held = new DayNumbers(day);
  const seqs = await held.take(count);
  return seqs.map((seq) => `PO${day}-${String(seq).padStart(6, '0')}`);
}

/** The next order number of the business day of `at`: PO20260523-000042. */
export async function nextOrderNo(at: Date): Promise<string> {
  return (await nextOrderNos(at, 1))[0]!;
}

/**
 * After a failed write: a duplicate order number means the counter went back (a restored backup),
 * so the numbers this process holds are dropped and the next ones come from the counter.
 */
export function forgetOrderNumbersAfter(err: unknown): void {
  if (isDuplicateKey(err, 'orderNo')) held = undefined;
}

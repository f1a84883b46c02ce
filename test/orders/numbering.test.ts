// Order numbers: a sequence per business day taken from `order_counters` a block at a time
// (orders.numbering.ts). Each test uses a business day of its own, far from the suite's others, so
// its counter starts empty.
import { expect } from 'chai';
import mongoose, { Schema } from 'mongoose';
import { OrderCounter } from '../../server/modules/orders/orders.model';
import { forgetOrderNumbersAfter, nextOrderNo, nextOrderNos, ORDER_NUMBER_BLOCK } from '../../server/modules/orders/orders.numbering';
import { isDuplicateKey } from '../../server/platform/mongo';
import { withCommand } from '../../server/platform/unit-of-work';

/** Noon in Shanghai on a day of 2031 no other test uses, two days apart for each call. */
let dayOffset = Math.floor(Math.random() * 100) * 3;
const freshDay = () => new Date(Date.UTC(2031, 0, 1 + (dayOffset += 3), 4));
/** The business day of `at` as an order number shows it (Asia/Shanghai, UTC+8). */
const dayOf = (at: Date) => new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
const counterOf = async (at: Date) => (await OrderCounter.findById(`PO${dayOf(at)}`).lean<{ seq: number }>())?.seq;
const seqOf = (orderNo: string) => Number(orderNo.split('-')[1]);

const NumberedSchema = new Schema<{ orderNo: string }>({ orderNo: String }, { versionKey: false, collection: 'test_numbered' });
NumberedSchema.index({ orderNo: 1 }, { unique: true });
const Numbered = (mongoose.models.TestNumbered as mongoose.Model<{ orderNo: string }>) ?? mongoose.model('TestNumbered', NumberedSchema);

describe('orders: order numbers', () => {
  it('numbers a day’s orders 000001, 000002 … from one counter update per block, taking the next block when half is left', async () => {
    const at = freshDay();
    const day = dayOf(at);
    expect(await nextOrderNo(at)).to.equal(`PO${day}-000001`);
    expect(await counterOf(at)).to.equal(ORDER_NUMBER_BLOCK);
    const rest: string[] = [];
    for (let i = 0; i < ORDER_NUMBER_BLOCK + 5; i += 1) rest.push(await nextOrderNo(at));
    expect(rest.map(seqOf)).to.deep.equal(Array.from({ length: ORDER_NUMBER_BLOCK + 5 }, (_, i) => i + 2));
    // 26 taken: the first block, and the second taken once ten of the first were left.
    expect(await counterOf(at)).to.equal(2 * ORDER_NUMBER_BLOCK);
  });

  it('gives concurrent callers distinct numbers with no gap between them, and a cart one number per order', async () => {
    const at = freshDay();
    const numbers = (await Promise.all(Array.from({ length: 30 }, () => nextOrderNo(at)))).map(seqOf);
    expect(new Set(numbers).size).to.equal(30);
    expect([...numbers].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
    const cart = (await nextOrderNos(at, 3)).map(seqOf);
    expect(cart).to.deep.equal([31, 32, 33]);
  });

  it('starts again at 000001 on the next business day (Asia/Shanghai), and a cart larger than a block is numbered in one update', async () => {
    const first = freshDay();
    await nextOrderNos(first, 2);
    // NOTE: 17:00 UTC is 01:00 the next day in Shanghai.
    const next = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate(), 17));
    const numbers = await nextOrderNos(next, ORDER_NUMBER_BLOCK + 3);
    expect(dayOf(next)).to.not.equal(dayOf(first));
    expect(numbers[0]).to.equal(`PO${dayOf(next)}-000001`);
    expect(numbers.map(seqOf)).to.deep.equal(Array.from({ length: ORDER_NUMBER_BLOCK + 3 }, (_, i) => i + 1));
    expect(await counterOf(next)).to.be.at.least(ORDER_NUMBER_BLOCK + 3);
  });

  it('keeps a block taken inside a transaction that then aborts: numbers handed out are never handed out again', async () => {
    const at = freshDay();
    // A request takes the day's first number inside its command, which then fails (a refusal, a
    // conflict, a crash before the commit): the block's update must not go back with it, since the
    // rest of the block goes to other requests.
    const refused = await withCommand(null, async () => {
      await nextOrderNo(at);
      throw new Error('refused after numbering');
    }).catch((err: Error) => err.message);
    expect(refused).to.equal('refused after numbering');
    expect(await counterOf(at)).to.equal(ORDER_NUMBER_BLOCK);
    const later = [];
    for (let i = 0; i < 2 * ORDER_NUMBER_BLOCK; i += 1) later.push(seqOf(await nextOrderNo(at)));
    expect(new Set(later).size).to.equal(later.length);
    expect(later[0]).to.equal(2);
    expect(Math.min(...later)).to.equal(2);
  });

  it('drops the numbers it holds after a duplicate order number (a counter restored from a backup), and takes the next from the counter', async () => {
    await Numbered.createIndexes();
    const at = freshDay();
    const day = dayOf(at);
    const held = await nextOrderNo(at);
    await Numbered.create({ orderNo: held });
    // The counter goes back as a restore would take it back; this process still holds 000002 … 000020.
    await OrderCounter.updateOne({ _id: `PO${day}` }, { $set: { seq: 100 } });
    const duplicate = await Numbered.create({ orderNo: held }).catch((err: unknown) => err);
    expect(isDuplicateKey(duplicate, 'orderNo')).to.equal(true);
    expect(isDuplicateKey(duplicate, 'other')).to.equal(false);
    forgetOrderNumbersAfter(new Error('not a duplicate'));
    expect(await nextOrderNo(at)).to.equal(`PO${day}-000002`);
    forgetOrderNumbersAfter(duplicate);
    expect(await nextOrderNo(at)).to.equal(`PO${day}-000101`);
  });
});

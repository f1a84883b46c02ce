import { expect } from 'chai';
import { Types } from 'mongoose';
import { Order, checkConfirmDeadline, confirmDeadlineJob, orderJobIds, sweepOrderDeadlines } from '../../server/modules/orders';
import { getSettings, updateSettings } from '../../server/modules/settings';
import { OutboxEvent } from '../../server/platform/events';
import { testApp, testClock } from '../support/global';
import { buildOrderParties, confirm, eventually, placeCatalogueOrder, shipAll, track } from '../support/order-factories';

const eventsWithKey = (key: string) => OutboxEvent.find({ key }).lean();

describe('orders: deadlines', () => {
  let saved: Awaited<ReturnType<typeof getSettings>>['orders'];
  before(async () => {
    saved = (await getSettings()).orders;
  });
  afterEach(async () => {
    await updateSettings(null, { orders: saved });
  });

  it('records a missed confirmation once, by its scheduled job, and flags the order', async () => {
    await updateSettings(null, { orders: { confirmWithinSec: 1 } });
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const key = `order-confirmation-late:${order.id}`;
    const [event] = await eventually(async () => {
      const rows = await eventsWithKey(key);
      return rows.length ? rows : undefined;
    });
    expect(event!.type).to.equal('orders.deadline_missed');
    expect(event!.payload).to.include({ kind: 'confirmation', orderId: order.id, orderNo: order.orderNo, distributorOrgId: p.distributor.org.id, hospitalOrgId: p.pharmacist.org.id });
    expect(Date.parse(event!.payload.deadline as string)).to.equal(Date.parse(order.confirmBy as string));
    const stored = await eventually(async () => {
      const o = await Order.findById(order.id).lean();
      return o?.missed?.confirmation ? o : undefined;
    });
    expect(stored.status).to.equal('placed');
  });

  it('raises the miss exactly once even when the job runs again after a restart', async () => {
    await updateSettings(null, { orders: { confirmWithinSec: 1 } });
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const key = `order-confirmation-late:${order.id}`;
    await eventually(async () => (await eventsWithKey(key)).length === 1);

    // A restarted worker finds the job again (its completed record gone) and runs it a second time.
    const queues = testApp().platform.queues;
    const jobId = orderJobIds.confirm(order.id);
    await eventually(async () => (await (await queues.getJob(jobId))?.getState()) === 'completed');
    await (await queues.getJob(jobId))!.remove();
    await queues.enqueue(confirmDeadlineJob, { orderId: order.id }, { jobId });
    await eventually(async () => (await (await queues.getJob(jobId))?.getState()) === 'completed');
    // …and the handler itself, called directly, is idempotent too.
    expect(await checkConfirmDeadline(order.id)).to.equal('missed');
    expect(await sweepOrderDeadlines()).to.be.a('number');

    expect(await eventsWithKey(key)).to.have.length(1);
    expect(await OutboxEvent.countDocuments({ type: 'orders.deadline_missed', 'payload.orderId': order.id, 'payload.kind': 'confirmation' })).to.equal(1);
  });

  it('recovers a lost deadline job: the worker runs the deadline sweep and records the miss once', async () => {
    expect(testApp().sweeper, 'the worker runs sweeps').to.not.equal(undefined);
    await updateSettings(null, { orders: { confirmWithinSec: 30 } });
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const queues = testApp().platform.queues;
    await testApp().relay.idle();
    // The one-off deadline job is lost (e.g. Redis data gone) …
    await (await queues.getJob(orderJobIds.confirm(order.id)))!.remove();
    testClock.advance(60_000);
    // … so the sweep, which the worker runs on its own timer, finds the missed deadline.
    expect(await sweepOrderDeadlines()).to.be.greaterThan(0);
    await sweepOrderDeadlines();
    expect(await eventsWithKey(`order-confirmation-late:${order.id}`)).to.have.length(1);
  });

  it('a confirmation in time records nothing; confirming late records the miss at once', async () => {
    const p = await buildOrderParties();
    const inTime = await placeCatalogueOrder(p);
    await confirm(p.distributor, inTime.id);
    expect(await checkConfirmDeadline(inTime.id)).to.equal('met');
    expect(await eventsWithKey(`order-confirmation-late:${inTime.id}`)).to.have.length(0);

    await updateSettings(null, { orders: { confirmWithinSec: 1 } });
    const late = await placeCatalogueOrder(p);
    await new Promise((r) => setTimeout(r, 1100));
    await confirm(p.distributor, late.id);
    expect(await eventsWithKey(`order-confirmation-late:${late.id}`)).to.have.length(1);
  });

  it('a hospital cancellation before the deadline is no breach', async () => {
    await updateSettings(null, { orders: { confirmWithinSec: 1 } });
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    await p.pharmacist.api().post(`/api/v1/orders/${order.id}/cancel`, { reason: '重复下单' }).expect(200);
    await new Promise((r) => setTimeout(r, 1300));
    expect(await checkConfirmDeadline(order.id)).to.equal('moot');
    expect(await eventsWithKey(`order-confirmation-late:${order.id}`)).to.have.length(0);
  });

  it('records a late delivery (urgent deadline from confirmation) and then "not delivered", once each', async () => {
    await updateSettings(null, { orders: { deliverUrgentWithinSec: 1, notDeliveredAfterSec: 2 } });
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p, { urgency: 'urgent' });
    const confirmed = await confirm(p.distributor, order.id);
    expect(Date.parse(confirmed.deliverBy as string) - Date.parse(confirmed.respondedAt as string)).to.equal(1000);
    await eventually(async () => (await eventsWithKey(`order-delivery-late:${order.id}`)).length === 1, 8000, 'the late delivery');
    await eventually(async () => (await eventsWithKey(`order-not-delivered:${order.id}`)).length === 1, 8000, 'the non-delivery');
    const [late] = await eventsWithKey(`order-delivery-late:${order.id}`);
    expect(late!.type).to.equal('orders.deadline_missed');
    expect(late!.payload).to.include({ kind: 'delivery' });
    expect(late!.payload).to.include({ orderId: order.id, distributorOrgId: p.distributor.org.id, hospitalOrgId: p.pharmacist.org.id });
  });

  it('a delivery in time records nothing; a regular order uses the regular window', async () => {
    await updateSettings(null, { orders: { deliverUrgentWithinSec: 1, deliverRegularWithinSec: 3600 } });
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p, { urgency: 'regular' });
    const confirmed = await confirm(p.distributor, order.id);
    expect(Date.parse(confirmed.deliverBy as string) - Date.parse(confirmed.respondedAt as string)).to.equal(3_600_000);
    await shipAll(p.distributor, confirmed, p.drugs);
    await track(p.distributor, order.id, 'delivered');
    await new Promise((r) => setTimeout(r, 300));
    expect(await OutboxEvent.countDocuments({ key: `order-delivery-late:${order.id}` })).to.equal(0);
    expect((await Order.findById(new Types.ObjectId(order.id)).lean())!.missed?.delivery).to.equal(undefined);
  });
});

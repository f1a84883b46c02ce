/** Orders and delivery tracking: ordering, the state machine, shipments and traceability codes, acceptance, deadlines, KPIs, recall. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { defineSweep } from '../../platform/sweeps';
import { checkConfirmDeadline, checkDeliveryDeadline, checkNotDelivered, sweepOrderDeadlines } from './orders.deadlines';
import { seedDemoOrders } from './orders.demo';
import { confirmDeadlineJob, deliveryDeadlineJob, notDeliveredJob } from './orders.jobs';
import { orderPages } from './orders.pages';
import { orderRoutes } from './orders.routes';
import { orderSocket } from './orders.socket';
import { orderSubscribers } from './orders.subscribers';

export { Order, Shipment, TraceCode, Acceptance, type OrderDoc, type ShipmentDoc, type SourceKind } from './orders.model';
export { placeOrders, getOrder, listOrders, confirmOrder, rejectOrder, cancelOrder, listingChoices } from './orders.service';
export { shipOrder, addTracking, getShipment } from './orders.shipping';
export { acceptDelivery } from './orders.acceptance';
export { distributorKpis, hospitalOrderStats, recallTrace } from './orders.reports';
export { checkConfirmDeadline, checkDeliveryDeadline, checkNotDelivered, sweepOrderDeadlines, missKey } from './orders.deadlines';
export { confirmDeadlineJob, deliveryDeadlineJob, notDeliveredJob, jobIds as orderJobIds } from './orders.jobs';

export const ordersModule = defineModule({
  name: 'orders',
  api: orderRoutes,
  pages: orderPages,
  socket: orderSocket,
  jobs: [
    handle(confirmDeadlineJob, ({ orderId }) => checkConfirmDeadline(orderId)),
    handle(deliveryDeadlineJob, ({ orderId }) => checkDeliveryDeadline(orderId)),
    handle(notDeliveredJob, ({ orderId }) => checkNotDelivered(orderId)),
  ],
  subscribers: orderSubscribers,
  sweeps: [defineSweep('orders.deadlines', 'schedule', () => sweepOrderDeadlines())],
  demo: seedDemoOrders,
});

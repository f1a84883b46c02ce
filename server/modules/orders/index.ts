/** Orders and delivery tracking: ordering, the state machine, shipments and traceability codes, acceptance, deadlines, KPIs, recall. */
import { addDemoSeedStep } from '../demo';
import { seedDemoOrders } from './orders.demo';
export { Order, Shipment, TraceCode, Acceptance, type OrderDoc, type ShipmentDoc, type SourceKind } from './orders.model';
export { placeOrders, getOrder, listOrders, confirmOrder, rejectOrder, cancelOrder, listingChoices } from './orders.service';
export { shipOrder, addTracking, getShipment } from './orders.shipping';
export { acceptDelivery } from './orders.acceptance';
export { distributorKpis, hospitalOrderStats, recallTrace } from './orders.reports';
export { registerContractPriceResolver, type ContractPriceResolver, type ContractPriceQuery, type ContractPriceResult } from './orders.sources';
export { checkConfirmDeadline, checkDeliveryDeadline, checkNotDelivered, scheduleOrderSweeps, sweepOrderDeadlines } from './orders.deadlines';
export { confirmDeadlineJob, deliveryDeadlineJob, notDeliveredJob, sweepDeadlinesJob, jobIds as orderJobIds } from './orders.jobs';
export { orderRoutes } from './orders.routes';
export { orderPages } from './orders.pages';
export { orderSocket } from './orders.socket';

addDemoSeedStep('orders', seedDemoOrders);

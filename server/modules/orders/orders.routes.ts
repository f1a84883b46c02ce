import { resolveLang } from '../../platform/i18n';
import { downloadRoute, XLSX_CONTENT_TYPE, type ApiRouter } from '../../platform/http';
import { IdParams, z } from '../../platform/schemas';
import { paymentSecurityFor } from '../finance';
import { acceptDelivery } from './orders.acceptance';
import { distributorKpisXlsx, ordersXlsx } from './orders.exports';
import { loadOrder } from './orders.core';
import { importOrders } from './orders.csv';
import { distributorKpis, hospitalOrderStats, recallTrace } from './orders.reports';
import {
  AcceptBody,
  ConfirmBody,
  DistributorChoiceView,
  DistributorSearchQuery,
  ImportOrdersBody,
  ListingsQuery,
  OrderListQuery,
  OrderView,
  PeriodQuery,
  PlaceOrdersBody,
  ReasonBody,
  RecallQuery,
  ShipBody,
  TrackingBody,
} from './orders.schemas';
import { cancelOrder, confirmOrder, distributorChoices, getOrder, listingChoices, listOrders, placeOrders, rejectOrder } from './orders.service';
import { addTracking, getShipment, shipOrder } from './orders.shipping';

const TAGS = ['orders'];
const SEES_ORDERS = ['operator', 'pharmacist', 'hospital_finance', 'distributor'] as const;
/** Who orders from distributors, and the operator. */
const HOSPITAL_SIDE = ['operator', 'pharmacist', 'hospital_finance'] as const;
const OrderExportQuery = OrderListQuery.omit({ cursor: true, limit: true });
const OrderList = z.object({ data: z.array(OrderView), nextCursor: z.string().nullable() });
const Orders = z.object({ data: z.array(OrderView) });
const ShipmentView = z.object({
  id: z.string(),
  shipmentNo: z.string(),
  orderId: z.string(),
  orderNo: z.string(),
  carrier: z.string(),
  trackingNo: z.string(),
  eta: z.string().optional(),
  shippedAt: z.string(),
  shippedByName: z.string(),
  lines: z.array(z.object({ lineNo: z.number(), drugId: z.string(), drugName: z.string(), quantity: z.number(), batchNo: z.string(), expiryDate: z.string(), codes: z.array(z.string()) })),
  tracking: z.array(z.object({ at: z.string(), kind: z.string(), location: z.string().optional(), note: z.string().optional(), actorName: z.string() })),
});
const OrderAndShipment = z.object({ order: OrderView, shipment: ShipmentView });

export function orderRoutes(api: ApiRouter): void {
  api.route(
    { method: 'get', path: '/orders/listings', summary: 'Current listings of a drug to order from, cheapest first, with credit badges', tags: TAGS, auth: SEES_ORDERS, query: ListingsQuery },
    ({ query }) => listingChoices(query.drugId),
  );
  api.route(
    {
      method: 'get',
      path: '/orders/distributors/search',
      summary: "Type-ahead search of distributors to order from (name fragment, pinyin initials or full pinyin), each with its credit grade and whether it is suspended from trading",
      tags: TAGS,
      auth: HOSPITAL_SIDE,
      query: DistributorSearchQuery,
      response: z.object({ data: z.array(DistributorChoiceView) }),
    },
    ({ actor, query, req }) => distributorChoices(actor, query, resolveLang(req)),
  );
  api.route(
    { method: 'get', path: '/orders/kpis/distributors', summary: 'Delivery KPIs per distributor over a period (response, on-time delivery, completion; banded)', tags: TAGS, auth: SEES_ORDERS, query: PeriodQuery },
    ({ actor, query }) => distributorKpis(actor, query),
  );
  downloadRoute(
    api,
    { path: '/orders/kpis/distributors/export.xlsx', summary: 'The delivery KPIs per distributor as Excel (same period and scope as the list)', tags: TAGS, auth: SEES_ORDERS, query: PeriodQuery, contentType: XLSX_CONTENT_TYPE },
    ({ actor, query, lang }) => distributorKpisXlsx(actor, query, lang),
  );
  api.route(
    { method: 'get', path: '/orders/kpis/hospitals', summary: 'Open orders and late deliveries per hospital over a period', tags: TAGS, auth: ['operator', 'pharmacist', 'hospital_finance'], query: PeriodQuery },
    ({ actor, query }) => hospitalOrderStats(actor, query),
  );
  api.route(
    { method: 'get', path: '/orders/recall', summary: 'Recall trace: every hospital and order that received a drug batch', tags: TAGS, auth: SEES_ORDERS, query: RecallQuery },
    ({ actor, query }) => recallTrace(actor, query.drugId, query.batchNo),
  );
  api.route(
    { method: 'post', path: '/orders', summary: 'Place a cart: one order per distributor, prices locked from listing, catalogue or contract', tags: TAGS, auth: ['pharmacist'], body: PlaceOrdersBody, response: Orders, status: 201, idempotent: true },
    ({ actor, body }) => placeOrders(actor, body),
  );
  api.route(
    { method: 'post', path: '/orders/import', summary: 'Place orders from a CSV of lines (all or nothing)', tags: TAGS, auth: ['pharmacist'], body: ImportOrdersBody, response: Orders, status: 201, idempotent: true },
    ({ actor, body }) => importOrders(actor, body),
  );
  api.route(
    { method: 'get', path: '/orders', summary: 'My orders (hospital), incoming orders (distributor), all orders (operator)', tags: TAGS, auth: SEES_ORDERS, query: OrderListQuery, response: OrderList },
    ({ actor, query }) => listOrders(actor, query),
  );
  downloadRoute(
    api,
    { path: '/orders/export.xlsx', summary: 'The orders list as Excel: every order under the same filters and scope as GET /orders', tags: TAGS, auth: SEES_ORDERS, query: OrderExportQuery, contentType: XLSX_CONTENT_TYPE },
    ({ actor, query, lang }) => ordersXlsx(actor, query, lang),
  );
  api.route({ method: 'get', path: '/orders/:id', summary: 'One order with its events and the moves you may make', tags: TAGS, auth: SEES_ORDERS, params: IdParams, response: OrderView }, ({ actor, params }) =>
    getOrder(actor, params.id),
  );
  api.route({ method: 'get', path: '/orders/:id/shipment', summary: 'The shipment of an order with codes and tracking', tags: TAGS, auth: SEES_ORDERS, params: IdParams, response: ShipmentView }, ({ actor, params }) =>
    getShipment(actor, params.id),
  );
  api.route(
    { method: 'get', path: '/orders/:id/payment-security', summary: "Whether the hospital's payment for this order is secured (distributor, before confirming)", tags: TAGS, auth: ['distributor', 'operator'], params: IdParams },
    async ({ actor, params }) => {
      const o = await loadOrder(actor, params.id);
      return paymentSecurityFor(actor, { hospitalOrgId: String(o.hospitalOrgId), totalFen: o.totalFen });
    },
  );
  api.route(
    { method: 'post', path: '/orders/:id/confirm', summary: 'Confirm in full, or per line with backorders and reasons (distributor)', tags: TAGS, auth: ['distributor'], params: IdParams, body: ConfirmBody, response: OrderView },
    ({ actor, params, body }) => confirmOrder(actor, params.id, body),
  );
  api.route(
    { method: 'post', path: '/orders/:id/reject', summary: 'Reject an order with a reason (distributor)', tags: TAGS, auth: ['distributor'], params: IdParams, body: ReasonBody, response: OrderView },
    ({ actor, params, body }) => rejectOrder(actor, params.id, body.reason),
  );
  api.route(
    { method: 'post', path: '/orders/:id/cancel', summary: 'Cancel an order before shipment, with a reason (pharmacist, operator)', tags: TAGS, auth: ['pharmacist', 'operator'], params: IdParams, body: ReasonBody, response: OrderView },
    ({ actor, params, body }) => cancelOrder(actor, params.id, body.reason),
  );
  api.route(
    { method: 'post', path: '/orders/:id/ship', summary: 'Ship: carrier, tracking number, ETA; per line batch, expiry and traceability codes (distributor)', tags: TAGS, auth: ['distributor'], params: IdParams, body: ShipBody, response: OrderAndShipment, status: 201, idempotent: true },
    ({ actor, params, body }) => shipOrder(actor, params.id, body),
  );
  api.route(
    { method: 'post', path: '/orders/:id/tracking', summary: 'Add a tracking event: picked, departed, location, delivered (distributor)', tags: TAGS, auth: ['distributor'], params: IdParams, body: TrackingBody, response: OrderAndShipment, status: 201 },
    ({ actor, params, body }) => addTracking(actor, params.id, body),
  );
  api.route(
    { method: 'post', path: '/orders/:id/acceptance', summary: 'Accept a delivery (验收): per line accepted/refused with reasons, scanned codes; final; creates the invoice', tags: TAGS, auth: ['pharmacist'], params: IdParams, body: AcceptBody, status: 201, idempotent: true },
    ({ actor, params, body }) => acceptDelivery(actor, params.id, body),
  );
}

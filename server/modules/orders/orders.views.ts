import type { OrderDoc, ShipmentDoc } from './orders.model';
import type { OrderViewT } from './orders.schemas';
import { allowedMoves } from './orders.state';

const iso = (d?: Date | null) => (d ? d.toISOString() : undefined);

/** The JSON shape of an order for one viewer (the allowed moves depend on the viewer's role). */
export function orderView(o: OrderDoc, role: string): OrderViewT {
  return {
    id: String(o._id),
    orderNo: o.orderNo,
    status: o.status,
    urgency: o.urgency,
    hospitalOrgId: String(o.hospitalOrgId),
    hospitalName: o.hospitalName,
    deliveryAddress: o.deliveryAddress,
    distributorOrgId: String(o.distributorOrgId),
    distributorName: o.distributorName,
    placedByName: o.placedByName,
    totalFen: o.totalFen,
    note: o.note ?? undefined,
    backorderOf: o.backorderOf ? String(o.backorderOf) : undefined,
    placedAt: o.placedAt.toISOString(),
    confirmBy: o.confirmBy.toISOString(),
    respondedAt: iso(o.respondedAt),
    deliverBy: iso(o.deliverBy),
    shippedAt: iso(o.shippedAt),
    deliveredAt: iso(o.deliveredAt),
    acceptedAt: iso(o.acceptedAt),
    cancelledAt: iso(o.cancelledAt),
    reason: o.reason ?? undefined,
    missed: { confirmation: iso(o.missed?.confirmation), delivery: iso(o.missed?.delivery), notDelivered: iso(o.missed?.notDelivered) },
    invoiceId: o.invoiceId ?? undefined,
    invoiceDueAt: iso(o.invoiceDueAt),
    lines: o.lines.map((l) => ({
      lineNo: l.lineNo,
      drugId: String(l.drugId),
      drugName: l.drugName,
      drugNameEn: l.drugNameEn,
      dosageForm: l.dosageForm,
      specification: l.specification,
      packUnit: l.packUnit,
      manufacturer: l.manufacturer,
      tracePrefix: l.tracePrefix,
      source: { kind: l.source.kind, refId: l.source.refId ?? undefined },
      quantity: l.quantity,
      unitPriceFen: l.unitPriceFen,
      amountFen: l.amountFen,
      confirmedQty: l.confirmedQty,
      backorderedQty: l.backorderedQty,
      shortfallReason: l.shortfallReason ?? undefined,
      shippedQty: l.shippedQty,
      acceptedQty: l.acceptedQty,
      refusedQty: l.refusedQty,
    })),
    events: o.events.map((e) => ({ at: e.at.toISOString(), from: e.from ?? undefined, to: e.to, actorName: e.actorName, actorRole: e.actorRole, reason: e.reason ?? undefined })),
    allowedMoves: allowedMoves(o.status, role),
  };
}

/** A row of the orders list page (times as ISO strings, as in `orderView`). */
export function orderRowView(o: Pick<OrderDoc, '_id' | 'orderNo' | 'status' | 'urgency' | 'hospitalName' | 'distributorName' | 'totalFen' | 'placedAt' | 'confirmBy' | 'deliverBy' | 'deliveredAt' | 'cancelledAt' | 'missed'>) {
  return {
    id: String(o._id),
    orderNo: o.orderNo,
    status: o.status,
    urgency: o.urgency,
    hospitalName: o.hospitalName,
    distributorName: o.distributorName,
    totalFen: o.totalFen,
    placedAt: o.placedAt.toISOString(),
    confirmBy: o.confirmBy.toISOString(),
    deliverBy: iso(o.deliverBy),
    deliveredAt: iso(o.deliveredAt),
    cancelledAt: iso(o.cancelledAt),
    missed: { confirmation: iso(o.missed?.confirmation), delivery: iso(o.missed?.delivery) },
  };
}

export interface ShipmentViewT {
  id: string;
  shipmentNo: string;
  orderId: string;
  orderNo: string;
  carrier: string;
  trackingNo: string;
  eta?: string;
  shippedAt: string;
  shippedByName: string;
  lines: { lineNo: number; drugId: string; drugName: string; quantity: number; batchNo: string; expiryDate: string; codes: string[] }[];
  tracking: { at: string; kind: string; location?: string; note?: string; actorName: string }[];
}

export function shipmentView(s: ShipmentDoc): ShipmentViewT {
  return {
    id: String(s._id),
    shipmentNo: s.shipmentNo,
    orderId: String(s.orderId),
    orderNo: s.orderNo,
    carrier: s.carrier,
    trackingNo: s.trackingNo,
    eta: iso(s.eta),
    shippedAt: s.shippedAt.toISOString(),
    shippedByName: s.shippedByName,
    lines: s.lines.map((l) => ({ lineNo: l.lineNo, drugId: String(l.drugId), drugName: l.drugName, quantity: l.quantity, batchNo: l.batchNo, expiryDate: l.expiryDate, codes: [...l.codes] })),
    tracking: s.tracking.map((t) => ({ at: t.at.toISOString(), kind: t.kind, location: t.location ?? undefined, note: t.note ?? undefined, actorName: t.actorName })),
  };
}

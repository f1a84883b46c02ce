// Builds the plain data of an order's PDFs from its stored documents and renders them in the PDF
// workers (layouts in orders.documents.ts). Callers have already checked who may see the order.
import type { Lang } from '../../platform/i18n';
import { renderDocument } from '../../platform/pdf-pool';
import { DeliveryNoteDocument, PurchaseOrderDocument, type DeliveryNoteData, type PurchaseOrderData } from './orders.documents';
import type { OrderDoc, ShipmentDoc } from './orders.model';

/** The plain data of an order's purchase order. */
export function purchaseOrderData(o: OrderDoc): PurchaseOrderData {
  return {
    orderNo: o.orderNo,
    placedAt: o.placedAt.toISOString(),
    confirmBy: o.confirmBy.toISOString(),
    hospitalName: o.hospitalName,
    distributorName: o.distributorName,
    deliveryAddress: o.deliveryAddress,
    urgency: o.urgency,
    placedByName: o.placedByName,
    ...(o.note ? { note: o.note } : {}),
    totalFen: o.totalFen,
    lines: o.lines.map((l) => ({
      lineNo: l.lineNo,
      drugName: l.drugName,
      dosageForm: l.dosageForm,
      specification: l.specification,
      manufacturer: l.manufacturer,
      sourceKind: l.source.kind,
      quantity: l.quantity,
      packUnit: l.packUnit,
      unitPriceFen: l.unitPriceFen,
      amountFen: l.amountFen,
    })),
  };
}

/** The plain data of a shipment's delivery note. */
export function deliveryNoteData(o: OrderDoc, s: ShipmentDoc): DeliveryNoteData {
  const lineOf = (lineNo: number) => o.lines.find((l) => l.lineNo === lineNo)!;
  return {
    orderNo: o.orderNo,
    hospitalName: o.hospitalName,
    distributorName: o.distributorName,
    deliveryAddress: o.deliveryAddress,
    shipmentNo: s.shipmentNo,
    shippedAt: s.shippedAt.toISOString(),
    shippedByName: s.shippedByName,
    carrier: s.carrier,
    trackingNo: s.trackingNo,
    lines: s.lines.map((sl) => {
      const l = lineOf(sl.lineNo);
      return { drugName: l.drugName, dosageForm: l.dosageForm, specification: l.specification, manufacturer: l.manufacturer, packUnit: l.packUnit, batchNo: sl.batchNo, expiryDate: sl.expiryDate, quantity: sl.quantity, codeCount: sl.codes.length };
    }),
  };
}

/** The hospital's purchase order, as placed (prices locked at order time). */
export function purchaseOrderPdf(o: OrderDoc, lang: Lang = 'zh'): Promise<Buffer> {
  return renderDocument(PurchaseOrderDocument, purchaseOrderData(o), lang);
}

/** The delivery note that travels with the goods (随货同行单). */
export function deliveryNotePdf(o: OrderDoc, s: ShipmentDoc, lang: Lang = 'zh'): Promise<Buffer> {
  return renderDocument(DeliveryNoteDocument, deliveryNoteData(o, s), lang);
}

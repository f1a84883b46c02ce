// The purchase order (采购订单) and the delivery note (随货同行单, GSP Art. 73 fields: supplier,
// manufacturer, generic name, dosage form, specification, batch, quantity, receiving unit, address,
// ship date) as deterministic PDFs with Chinese text.
import { t, type Lang } from '../../platform/i18n';
import { renderPdf } from '../../platform/pdf';
import type { OrderDoc, ShipmentDoc } from './orders.model';

const tr = (lang: Lang, key: string, vars?: Record<string, unknown>) => t(lang, `orders.pdf.${key}`, vars);

/** The hospital's purchase order, as placed (prices locked at order time). */
export function purchaseOrderPdf(o: OrderDoc, lang: Lang = 'zh'): Promise<Buffer> {
  const title = `${tr(lang, 'purchaseOrder')} ${o.orderNo}`;
  return renderPdf({ title, date: o.placedAt, lang, subject: tr(lang, 'purchaseOrder') }, (_doc, kit) => {
    kit.heading(tr(lang, 'purchaseOrder'));
    kit.keyValues(
      [
        [tr(lang, 'orderNo'), o.orderNo],
        [tr(lang, 'placedAt'), kit.datetime(o.placedAt)],
        [tr(lang, 'buyer'), o.hospitalName],
        [tr(lang, 'supplier'), o.distributorName],
        [tr(lang, 'address'), o.deliveryAddress],
        [tr(lang, 'urgency'), t(lang, `orders.urgency.${o.urgency}`)],
        [tr(lang, 'placedBy'), o.placedByName],
        [tr(lang, 'confirmBy'), kit.datetime(o.confirmBy)],
      ],
      { columns: 2 },
    );
    kit.table({
      columns: [
        { header: tr(lang, 'no'), width: 28, align: 'right' },
        { header: tr(lang, 'genericName') },
        { header: tr(lang, 'formSpec'), width: 100 },
        { header: tr(lang, 'manufacturer'), width: 96 },
        { header: tr(lang, 'source'), width: 48 },
        { header: tr(lang, 'quantity'), width: 48, align: 'right' },
        { header: tr(lang, 'unitPrice'), width: 64, align: 'right' },
        { header: tr(lang, 'amount'), width: 72, align: 'right' },
      ],
      rows: o.lines.map((l) => [
        String(l.lineNo),
        l.drugName,
        `${l.dosageForm} ${l.specification}`,
        l.manufacturer,
        t(lang, `orders.source.${l.source.kind}`),
        `${l.quantity} ${l.packUnit}`,
        kit.money(l.unitPriceFen),
        kit.money(l.amountFen),
      ]),
    });
    kit.keyValues([[tr(lang, 'total'), kit.money(o.totalFen)]]);
    if (o.note) kit.paragraph(`${tr(lang, 'note')}：${o.note}`);
    kit.signatureBlock([
      { title: tr(lang, 'buyerParty'), name: o.hospitalName, signedBy: o.placedByName, signedAt: o.placedAt },
      { title: tr(lang, 'supplierParty'), name: o.distributorName },
    ]);
  });
}

/** The delivery note that travels with the goods (随货同行单), one row per shipped line and batch. */
export function deliveryNotePdf(o: OrderDoc, s: ShipmentDoc, lang: Lang = 'zh'): Promise<Buffer> {
  const title = `${tr(lang, 'deliveryNote')} ${s.shipmentNo}`;
  const lineOf = (lineNo: number) => o.lines.find((l) => l.lineNo === lineNo)!;
  return renderPdf({ title, date: s.shippedAt, lang, subject: tr(lang, 'deliveryNote') }, (_doc, kit) => {
    kit.heading(tr(lang, 'deliveryNote'));
    kit.keyValues(
      [
        [tr(lang, 'supplier'), o.distributorName],
        [tr(lang, 'shipmentNo'), s.shipmentNo],
        [tr(lang, 'receivingUnit'), o.hospitalName],
        [tr(lang, 'orderNo'), o.orderNo],
        [tr(lang, 'address'), o.deliveryAddress],
        [tr(lang, 'shipDate'), kit.date(s.shippedAt)],
        [tr(lang, 'carrier'), s.carrier],
        [tr(lang, 'trackingNo'), s.trackingNo],
      ],
      { columns: 2 },
    );
    kit.table({
      columns: [
        { header: tr(lang, 'genericName') },
        { header: tr(lang, 'dosageForm'), width: 52 },
        { header: tr(lang, 'specification'), width: 64 },
        { header: tr(lang, 'manufacturer'), width: 88 },
        { header: tr(lang, 'batchNo'), width: 66 },
        { header: tr(lang, 'expiry'), width: 62 },
        { header: tr(lang, 'quantity'), width: 50, align: 'right' },
      ],
      rows: s.lines.map((sl) => {
        const l = lineOf(sl.lineNo);
        return [l.drugName, l.dosageForm, l.specification, l.manufacturer, sl.batchNo, sl.expiryDate, `${sl.quantity} ${l.packUnit}`];
      }),
    });
    kit.paragraph(tr(lang, 'codesNote', { count: s.lines.reduce((n, l) => n + l.codes.length, 0) }), { muted: true, size: 9 });
    kit.signatureBlock([
      { title: tr(lang, 'supplierStamp'), name: o.distributorName, signedBy: s.shippedByName, signedAt: s.shippedAt },
      { title: tr(lang, 'receiverParty'), name: o.hospitalName },
    ]);
  });
}

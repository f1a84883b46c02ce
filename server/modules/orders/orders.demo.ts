// Demo orders (demo mode only): a few orders of the demo hospitals at catalogue prices, one per
// stage — waiting for confirmation, confirmed, in transit with tracking — so the order pages have
// something to show. Idempotent: orders are keyed by their DEMO- numbers.
import { Types } from 'mongoose';
import { now } from '../../platform/context';
import type { Logger } from '../../platform/logger';
import { trusted } from '../../platform/mongo';
import { businessDay } from '../../platform/time';
import { currentReferencePrices, Drug } from '../catalogue';
import { Organisation, type OrganisationDoc } from '../identity';
import { getSettings } from '../settings';
import { Order, Shipment, TraceCode, type OrderDoc, type OrderLine } from './orders.model';
import type { OrderState } from './orders.state';

interface DemoDrug {
  _id: Types.ObjectId;
  genericNameZh: string;
  genericNameEn: string;
  dosageForm: string;
  specification: string;
  packUnit: string;
  manufacturer: string;
  tracePrefix: string;
}

const PLAN: { no: string; hospital: string; distributor: string; status: OrderState; urgency: 'urgent' | 'regular'; drugs: number[] }[] = [
  { no: 'DEMO-0001', hospital: 'hospital-3', distributor: 'distributor-1', status: 'placed', urgency: 'urgent', drugs: [0, 1] },
  { no: 'DEMO-0002', hospital: 'hospital-2', distributor: 'distributor-2', status: 'confirmed', urgency: 'regular', drugs: [2] },
  { no: 'DEMO-0003', hospital: 'hospital-3', distributor: 'distributor-1', status: 'in_transit', urgency: 'regular', drugs: [1, 3] },
];

export async function seedDemoOrders(logger: Logger): Promise<void> {
  const existing = new Set((await Order.find({ orderNo: trusted({ $in: PLAN.map((p) => p.no) }) }, { orderNo: 1 }).lean<{ orderNo: string }[]>()).map((o) => o.orderNo));
  const todo = PLAN.filter((p) => !existing.has(p.no));
  if (todo.length === 0) return;
  const orgs = new Map((await Organisation.find({ demoKey: trusted({ $type: 'string' }) }).lean<OrganisationDoc[]>()).map((o) => [o.demoKey as string, o]));
  const drugs = await Drug.find({ demoKey: trusted({ $type: 'string' }) }).sort({ demoKey: 1 }).limit(8).lean<DemoDrug[]>();
  if (drugs.length < 4) return;
  const prices = await currentReferencePrices(drugs.map((d) => d._id), now());
  const s = (await getSettings()).orders;
  const at = now();
  for (const p of todo) {
    const hospital = orgs.get(p.hospital);
    const distributor = orgs.get(p.distributor);
    if (!hospital || !distributor) continue;
    const lines: OrderLine[] = p.drugs
      .map((i, n) => ({ d: drugs[i]!, n }))
      .filter(({ d }) => prices.has(String(d._id)))
      .map(({ d, n }) => {
        const unitPriceFen = prices.get(String(d._id))!.priceFen;
        const quantity = 2 + n;
        const confirmed = p.status === 'placed' ? 0 : quantity;
        return {
          lineNo: n + 1,
          drugId: d._id,
          drugName: d.genericNameZh,
          drugNameEn: d.genericNameEn,
          dosageForm: d.dosageForm,
          specification: d.specification,
          packUnit: d.packUnit,
          manufacturer: d.manufacturer,
          tracePrefix: d.tracePrefix,
          source: { kind: 'catalogue' as const },
          quantity,
          unitPriceFen,
          amountFen: quantity * unitPriceFen,
          confirmedQty: confirmed,
          backorderedQty: 0,
          shippedQty: p.status === 'in_transit' ? quantity : 0,
          acceptedQty: 0,
          refusedQty: 0,
        };
      });
    if (lines.length === 0) continue;
    const placedAt = new Date(at.getTime() - 3_600_000);
    const respondedAt = new Date(placedAt.getTime() + 1_200_000);
    const pharmacist = { actorName: '药师', actorRole: 'pharmacist' };
    const dist = { actorName: '配送员', actorRole: 'distributor' };
    const events: OrderDoc['events'] = [{ at: placedAt, to: 'placed', ...pharmacist }];
    if (p.status !== 'placed') events.push({ at: respondedAt, from: 'placed', to: 'confirmed', ...dist });
    if (p.status === 'in_transit') {
      events.push({ at: new Date(respondedAt.getTime() + 600_000), from: 'confirmed', to: 'shipped', ...dist });
      events.push({ at: new Date(respondedAt.getTime() + 900_000), from: 'shipped', to: 'in_transit', ...dist });
    }
    const within = p.urgency === 'urgent' ? s.deliverUrgentWithinSec : s.deliverRegularWithinSec;
    const order: OrderDoc = {
      _id: new Types.ObjectId(),
      orderNo: p.no,
      hospitalOrgId: hospital._id,
      hospitalName: hospital.name,
      deliveryAddress: hospital.address ?? hospital.name,
      distributorOrgId: distributor._id,
      distributorName: distributor.name,
      placedById: new Types.ObjectId('000000000000000000000000'),
      placedByName: '药师',
      urgency: p.urgency,
      status: p.status,
      lines,
      totalFen: lines.reduce((sum, l) => sum + l.amountFen, 0),
      placedAt,
      confirmBy: new Date(placedAt.getTime() + s.confirmWithinSec * 1000),
      ...(p.status !== 'placed' ? { respondedAt, deliverBy: new Date(respondedAt.getTime() + within * 1000), notDeliveredBy: new Date(respondedAt.getTime() + Math.max(within, s.notDeliveredAfterSec) * 1000) } : {}),
      ...(p.status === 'in_transit' ? { shippedAt: new Date(respondedAt.getTime() + 600_000) } : {}),
      events,
    };
    await Order.create(order);
    if (p.status === 'in_transit') {
      const shipmentId = new Types.ObjectId();
      const expiryDate = businessDay(new Date(at.getTime() + 540 * 86_400_000));
      const shipLines = lines.map((l) => ({
        lineNo: l.lineNo,
        drugId: l.drugId,
        drugName: l.drugName,
        quantity: l.quantity,
        batchNo: `DEMO${l.lineNo}2605`,
        expiryDate,
        codes: Array.from({ length: l.quantity }, (_, i) => `${l.tracePrefix}${String(990_000_000_000 + l.lineNo * 100 + i).padStart(13, '0')}`),
      }));
      await Shipment.create({
        _id: shipmentId,
        shipmentNo: p.no.replace('DEMO', 'DEMO-SH'),
        orderId: order._id,
        orderNo: p.no,
        hospitalOrgId: hospital._id,
        distributorOrgId: distributor._id,
        carrier: '顺丰医药',
        trackingNo: 'SF1234567890',
        eta: new Date(at.getTime() + 4 * 3_600_000),
        shippedAt: order.shippedAt!,
        shippedByName: '配送员',
        lines: shipLines,
        tracking: [
          { at: new Date(respondedAt.getTime() + 300_000), kind: 'picked', location: '华南医药配送中心', actorName: '配送员' },
          { at: new Date(respondedAt.getTime() + 900_000), kind: 'departed', location: '华南医药配送中心', actorName: '配送员' },
        ],
      });
      await TraceCode.insertMany(
        shipLines.flatMap((l) =>
          l.codes.map((code) => ({
            code,
            drugId: l.drugId,
            batchNo: l.batchNo,
            expiryDate: l.expiryDate,
            orderId: order._id,
            orderNo: p.no,
            shipmentId,
            lineNo: l.lineNo,
            hospitalOrgId: hospital._id,
            distributorOrgId: distributor._id,
            status: 'shipped',
            shippedAt: order.shippedAt!,
          })),
        ),
        { ordered: false },
      ).catch(() => undefined);
    }
  }
  logger.info({ orders: todo.length }, 'demo orders ready');
}

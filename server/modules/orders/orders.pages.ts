import type { Response, Router } from 'express';
import { assertRole, type Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import { lookup, catalogues, t, type Lang } from '../../platform/i18n';
import { businessDay } from '../../platform/time';
import { parse } from '../../platform/validate';
import { drugChoice } from '../catalogue';
import { invoiceNoOf, paymentSecurityFor } from '../finance';
import { getAcceptance } from './orders.acceptance';
import { loadOrder } from './orders.core';
import { REFUSAL_REASONS, Shipment, TRACKING_KINDS, type ShipmentDoc } from './orders.model';
import { deliveryNotePdf, purchaseOrderPdf } from './orders.pdf';
import { distributorKpis, distributorsWithOrders, hospitalOrderStats, periodOf, recallTrace } from './orders.reports';
import { OrderListQuery, PeriodQuery, RecallQuery } from './orders.schemas';
import { listOrderRows } from './orders.service';
import { ORDER_STATES } from './orders.state';
import { orderView, shipmentView } from './orders.views';
import { msg } from '../../platform/messages';

const SEES_ORDERS = ['operator', 'pharmacist', 'hospital_finance', 'distributor'] as const;
/** The camera dialog's texts the order page script needs (`orders.camera.*`). */
const CAMERA_LABELS = ['line', 'starting', 'loading', 'ready', 'accepted', 'acceptedGs1', 'acceptedOtherLine', 'refused', 'duplicate', 'denied', 'absent', 'unavailable', 'insecure', 'decoderFailed'] as const;

/** The query without empty values and the language switch (forms send empty fields). */
function cleanQuery(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => v !== '' && k !== 'lang'));
}

/** The `orders.client` messages for the page scripts (embedded as JSON). */
function clientMessages(lang: Lang): unknown {
  return lookup(catalogues[lang], 'orders.client') ?? lookup(catalogues.zh, 'orders.client');
}

function sendPdf(res: Response, name: string, pdf: Buffer): void {
  res.set('Content-Type', 'application/pdf');
  res.set('Content-Disposition', `inline; filename="${name}"`);
  res.send(pdf);
}

function subtitleKey(actor: Actor): string {
  return `orders.subtitle.${actor.orgType === 'distributor' ? 'distributor' : actor.role === 'operator' ? 'operator' : 'pharmacist'}`;
}

export function orderPages(router: Router): void {
  router.get('/orders', async (req, res) => {
    assertRole(req.actor, SEES_ORDERS);
    const lang = res.locals.lang as Lang;
    const raw = cleanQuery(req.query as Record<string, unknown>);
    const q = parse(OrderListQuery, raw, 'query');
    const page = await listOrderRows(req.actor, q);
    res.render('orders/index', {
      title: t(lang, 'orders.title'),
      subtitle: t(lang, subtitleKey(req.actor)),
      orders: page.data,
      nextCursor: page.nextCursor,
      cursor: q.cursor,
      filters: { ...raw, cursor: undefined },
      statuses: ORDER_STATES.map((s) => ({ value: s, label: t(lang, `orderStatus.${s}`), selected: s === q.status })),
      openFilter: q.open === true ? 'true' : q.open === false ? 'false' : '',
      isPharmacist: req.actor.role === 'pharmacist',
      isDistributor: req.actor.role === 'distributor',
      isOperator: req.actor.role === 'operator',
      messages: clientMessages(lang),
      pageData: { statusLabels: Object.fromEntries(ORDER_STATES.map((s) => [s, t(lang, `orderStatus.${s}`)])) },
    });
  });

  router.get('/orders/new', async (req, res) => {
    assertRole(req.actor, ['pharmacist']);
    const lang = res.locals.lang as Lang;
    // NOTE: the catalogue order's distributor is picked by search (organisations/search), not from a list of all.
    res.render('orders/new', {
      title: t(lang, 'orders.new.title'),
      messages: clientMessages(lang),
      pageData: {
        urgencyLabels: { urgent: t(lang, 'orders.urgency.urgent'), regular: t(lang, 'orders.urgency.regular') },
        sourceLabels: { listing: t(lang, 'orders.source.listing'), catalogue: t(lang, 'orders.source.catalogue'), contract: t(lang, 'orders.source.contract') },
        labels: Object.fromEntries(
          ['listings', 'noListings', 'catalogue', 'referencePrice', 'chooseDistributor', 'grade', 'riskWarning', 'suspended', 'add', 'remove', 'emptyCart', 'noDrugs', 'placed'].map((k) => [k, t(lang, `orders.new.${k}`)]),
        ),
        fieldLabels: Object.fromEntries(['distributor', 'unitPrice', 'quantity', 'amount', 'drug', 'source', 'spec'].map((k) => [k, t(lang, `orders.fields.${k}`)])),
      },
    });
  });

  router.get('/orders/kpis', async (req, res) => {
    assertRole(req.actor, SEES_ORDERS);
    const lang = res.locals.lang as Lang;
    const q = parse(PeriodQuery, cleanQuery(req.query as Record<string, unknown>), 'query');
    const period = periodOf(q);
    const [kpis, hospitals, distributors] = await Promise.all([
      distributorKpis(req.actor, q),
      req.actor.orgType === 'hospital' || req.actor.role === 'operator' ? hospitalOrderStats(req.actor, q) : Promise.resolve(null),
      req.actor.role === 'operator' ? distributorsWithOrders() : Promise.resolve([]),
    ]);
    res.render('orders/kpis', {
      title: t(lang, 'orders.kpi.title'),
      period: { from: period.from, to: period.to },
      filters: q,
      rows: kpis.data.map((r) => ({
        ...r,
        responseBand: bandKey(r.responseBand),
        onTimeDeliveryBand: bandKey(r.onTimeDeliveryBand),
        completionBand: bandKey(r.completionBand),
        responseTone: tone(bandKey(r.responseBand)),
        onTimeTone: tone(bandKey(r.onTimeDeliveryBand)),
        completionTone: tone(bandKey(r.completionBand)),
      })),
      hospitals: hospitals?.data ?? null,
      distributors: distributors.map((d) => ({ ...d, selected: d.id === q.distributorOrgId })),
    });
  });

  router.get('/orders/recall', async (req, res) => {
    assertRole(req.actor, SEES_ORDERS);
    const lang = res.locals.lang as Lang;
    const { drugIdText, ...raw } = cleanQuery(req.query as Record<string, unknown>);
    // NOTE: the drug is picked by search; without scripts only its text arrives, and the first match stands for it.
    const drug = await drugChoice(typeof raw.drugId === 'string' ? raw.drugId : undefined, typeof drugIdText === 'string' ? drugIdText : undefined);
    if (drug) raw.drugId = drug.id;
    const q = raw.drugId || raw.batchNo ? parse(RecallQuery, raw, 'query') : undefined;
    const result = q ? await recallTrace(req.actor, q.drugId, q.batchNo) : undefined;
    res.render('orders/recall', {
      title: t(lang, 'orders.recallPage.title'),
      drug,
      filters: raw,
      result,
    });
  });

  router.get('/orders/:id', async (req, res) => {
    assertRole(req.actor, SEES_ORDERS);
    const lang = res.locals.lang as Lang;
    const actor = req.actor;
    const order = await loadOrder(actor, String(req.params.id));
    const view = orderView(order, actor.role);
    const shipment = await Shipment.findOne({ orderId: order._id }).lean<ShipmentDoc>();
    const acceptance = await getAcceptance(order._id);
    let security: Awaited<ReturnType<typeof paymentSecurityFor>> | null = null;
    let securityFailed = false;
    if (actor.role === 'distributor' && order.status === 'placed') {
      try {
        security = await paymentSecurityFor(actor, { hospitalOrgId: String(order.hospitalOrgId), totalFen: order.totalFen });
      } catch (err) {
        securityFailed = true;
        platform().logger.warn({ err: (err as Error).message, orderId: view.id }, 'orders: payment security unavailable');
      }
    }
    const moves = new Set(view.allowedMoves);
    const sView = shipment ? shipmentView(shipment) : null;
    const invoiceNo = view.invoiceId ? await invoiceNoOf(view.invoiceId) : undefined;
    res.render('orders/show', {
      invoiceNo,
      title: `${t(lang, 'orders.title')} ${order.orderNo}`,
      order: view,
      shipment: sView,
      shipmentLines: sView?.lines.map((l) => ({ ...l, codesCount: l.codes.length, line: view.lines.find((x) => x.lineNo === l.lineNo) })),
      acceptance,
      security,
      securityFailed,
      isDistributor: actor.role === 'distributor',
      canConfirm: moves.has('confirmed') || moves.has('partially_confirmed'),
      canCancel: moves.has('cancelled'),
      canShip: moves.has('shipped'),
      canTrack: actor.role === 'distributor' && (order.status === 'shipped' || order.status === 'in_transit'),
      canAccept: moves.has('accepted'),
      trackingKinds: TRACKING_KINDS.map((k) => ({ value: k, label: t(lang, `orders.tracking.${k}`) })),
      refusalReasons: REFUSAL_REASONS.map((r) => ({ value: r, label: t(lang, `orders.refusalReason.${r}`) })),
      tomorrow: businessDay(new Date(now().getTime() + 86_400_000)),
      messages: clientMessages(lang),
      pageData: {
        orderId: view.id,
        status: view.status,
        seq: view.events.length,
        shipmentLines: sView?.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity, codes: l.codes })) ?? [],
        trackingLabels: Object.fromEntries(TRACKING_KINDS.map((k) => [k, t(lang, `orders.tracking.${k}`)])),
        statusLabels: Object.fromEntries(ORDER_STATES.map((s) => [s, t(lang, `orderStatus.${s}`)])),
        acceptLabels: { unknownCode: t(lang, 'orders.accept.unknownCode'), duplicateCode: t(lang, 'orders.accept.duplicateCode'), scanned: t(lang, 'orders.accept.scanned') },
        shipLines: order.lines.filter((l) => l.confirmedQty > 0).map((l) => ({ lineNo: l.lineNo, tracePrefix: l.tracePrefix })),
        referenceYear: Number(businessDay(now()).slice(0, 4)),
        shipLabels: Object.fromEntries(
          ['codesCount', 'markOk', 'markLength', 'markPrefix', 'markDuplicate', 'markUnreadable', 'markGs1', 'filledFromScan'].map((k) => [k, t(lang, `orders.ship.${k}`)]),
        ),
        cameraLabels: Object.fromEntries(CAMERA_LABELS.map((k) => [k, t(lang, `orders.camera.${k}`)])),
      },
    });
  });

  router.get('/orders/:id/purchase-order.pdf', async (req, res) => {
    assertRole(req.actor, SEES_ORDERS);
    const order = await loadOrder(req.actor, String(req.params.id));
    sendPdf(res, `${order.orderNo}.pdf`, await purchaseOrderPdf(order, res.locals.lang as Lang));
  });

  router.get('/orders/:id/delivery-note.pdf', async (req, res) => {
    assertRole(req.actor, SEES_ORDERS);
    const order = await loadOrder(req.actor, String(req.params.id));
    const shipment = await Shipment.findOne({ orderId: order._id }).lean<ShipmentDoc>();
    if (!shipment) throw new NotFoundError({ code: 'SHIPMENT_NOT_FOUND', message: msg('errorCodes.SHIPMENT_NOT_FOUND') });
    sendPdf(res, `${shipment.shipmentNo}.pdf`, await deliveryNotePdf(order, shipment, res.locals.lang as Lang));
  });
}

/** The band as printed ('95-100', '80-95', '<80') → its message key and badge colour. */
function bandKey(band: string | null): 'good' | 'fair' | 'poor' | null {
  return band === '95-100' ? 'good' : band === '80-95' ? 'fair' : band === '<80' ? 'poor' : null;
}

function tone(band: string | null): string {
  return band === 'good' ? 'success' : band === 'fair' ? 'warning' : band === 'poor' ? 'danger' : 'neutral';
}

import { Types } from 'mongoose';
import { OrderPlaced, OrderRefusedListedHospital, OrderStatusChanged } from '../../events/orders';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, RuleViolationError } from '../../platform/errors';
import { fen, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { formatMoney } from '../../platform/view-helpers/formatters';
import { pricedDrugs, type DrugInfo, type PricedDrug } from '../catalogue';
import { assertMayTrade, assertMayTradeCached, creditBadges } from '../credit';
import { organisationSummaries, searchOrganisations } from '../identity';
import { listingsForDrug } from '../quotation';
import { getSettings } from '../settings';
import { applyMove, assertMove, eventOf, loadOrder, oid, refuse, scopeFilter } from './orders.core';
import { markMissed } from './orders.deadlines';
import { Order, type OrderDoc, type OrderLine } from './orders.model';
import { forgetOrderNumbersAfter, nextOrderNo, nextOrderNos } from './orders.numbering';
import type { ConfirmInput, DistributorChoiceT, DistributorSearchInput, OrderListQueryInput, PlaceOrdersInput } from './orders.schemas';
import { resolvePrices, stillListed } from './orders.sources';
import { TERMINAL_ORDER_STATES, confirmDeadline, deliveryDeadline } from './orders.state';
import { orderRowView, orderView } from './orders.views';

const orderRef = (o: OrderDoc) => ({ orderId: String(o._id), orderNo: o.orderNo, hospitalOrgId: String(o.hospitalOrgId), distributorOrgId: String(o.distributorOrgId) });

/** Stages the facts of a new order: its audit entry and `orders.placed`. */
function placed(uow: UnitOfWork, o: OrderDoc): void {
  uow.audit({
    action: 'order.place',
    targetType: 'order',
    targetId: String(o._id),
    summary: msg('orders.audit.placed', { orderNo: o.orderNo, lines: o.lines.length, total: fen(o.totalFen), urgency: { msg: `orders.urgency.${o.urgency}` } }),
  });
  uow.emit(
    OrderPlaced,
    {
      ...orderRef(o),
      hospitalName: o.hospitalName,
      urgency: o.urgency,
      lineCount: o.lines.length,
      totalFen: o.totalFen,
      placedAt: o.placedAt.toISOString(),
      confirmBy: o.confirmBy.toISOString(),
      ...(o.backorderOf ? { backorderOf: String(o.backorderOf) } : {}),
    },
    { key: `order-placed:${String(o._id)}` },
  );
}

/** Stages `orders.status_changed` for a move the order just made. */
export function statusChanged(uow: UnitOfWork, before: Pick<OrderDoc, 'status'>, after: OrderDoc, extra: { reason?: string; carrier?: string; trackingNo?: string } = {}): void {
  uow.emit(
    OrderStatusChanged,
    {
      ...orderRef(after),
      hospitalName: after.hospitalName,
      distributorName: after.distributorName,
      from: before.status,
      to: after.status,
      at: (after.events.at(-1)?.at ?? uow.at).toISOString(),
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(after.deliverBy ? { deliverBy: after.deliverBy.toISOString() } : {}),
      ...(extra.carrier ? { carrier: extra.carrier } : {}),
      ...(extra.trackingNo ? { trackingNo: extra.trackingNo } : {}),
    },
    { key: `order-status:${String(after._id)}:${after.events.length}` },
  );
}

function lineFrom(index: number, drug: DrugInfo, source: OrderLine['source'], quantity: number, unitPriceFen: number): OrderLine {
  return {
    lineNo: index + 1,
    drugId: drug._id,
    drugName: drug.genericNameZh,
    drugNameEn: drug.genericNameEn,
    dosageForm: drug.dosageForm,
    specification: drug.specification,
    packUnit: drug.packUnit,
    manufacturer: drug.manufacturer,
    tracePrefix: drug.tracePrefix,
    source,
    quantity,
    unitPriceFen,
    amountFen: quantity * unitPriceFen,
    confirmedQty: 0,
    backorderedQty: 0,
    shippedQty: 0,
    acceptedQty: 0,
    refusedQty: 0,
  };
}

/**
 * A pharmacist places a cart: every line names a drug, the chosen distributor and the price source.
 * Lines are grouped into one order per distributor; prices lock now. Everything is checked before
 * anything is stored: a refusal stores nothing.
 */
export async function placeOrders(actor: Actor, input: PlaceOrdersInput): Promise<{ data: ReturnType<typeof orderView>[] }> {
  const at = now();
  const distributorIds = [...new Set(input.lines.map((l) => l.distributorOrgId))];
  // NOTE: every read is independent, so they go out together: the hospital and the distributors in
  // one query, the drugs with their reference prices and the settings (both usually from memory),
  // and the other prices in force (a refusal of a line still comes first).
  const catalogue = pricedDrugs(input.lines.map((l) => l.drugId), at);
  catalogue.catch(() => undefined);
  const pricing = resolvePrices(
    input.lines.map((l, index) => ({ index, drugId: l.drugId, distributorOrgId: l.distributorOrgId, source: l.source, refId: l.refId, quantity: l.quantity, hospitalOrgId: actor.orgId })),
    at,
    catalogue,
  );
  pricing.catch(() => undefined);
  try {
    return await placeCheckedOrders(actor, input, at, distributorIds, catalogue, pricing);
  } catch (err) {
    forgetOrderNumbersAfter(err);
    throw err;
  }
}

async function placeCheckedOrders(
  actor: Actor,
  input: PlaceOrdersInput,
  at: Date,
  distributorIds: string[],
  catalogue: Promise<Map<string, PricedDrug>>,
  pricing: ReturnType<typeof resolvePrices>,
): Promise<{ data: ReturnType<typeof orderView>[] }> {
  const [orgRows, drugRows, settings] = await Promise.all([
    organisationSummaries([actor.orgId, ...distributorIds]),
    catalogue.then((found) => [...found.values()].map((p) => p.drug)),
    getSettings(),
  ]);
  const hospital = orgRows.find((o) => String(o._id) === actor.orgId);
  if (!hospital || hospital.type !== 'hospital') throw new RuleViolationError({ code: 'NOT_A_HOSPITAL', message: msg('errorCodes.NOT_A_HOSPITAL') });
  if (!hospital.address) {
    throw new RuleViolationError({ code: 'HOSPITAL_ADDRESS_MISSING', message: msg('errorCodes.HOSPITAL_ADDRESS_MISSING') });
  }
  const distributorRows = orgRows.filter((o) => o.type === 'distributor' && o.active);

  const problems: { code: string; message: Message; line: number }[] = [];
  const seen = new Set<string>();
  input.lines.forEach((l, i) => {
    const key = `${l.drugId}:${l.distributorOrgId}`;
    if (seen.has(key)) problems.push({ code: 'DUPLICATE_LINE', message: msg('errorCodes.DUPLICATE_LINE_2', { value: i + 1 }), line: i + 1 });
    seen.add(key);
  });

  const drugs = new Map(drugRows.map((d) => [String(d._id), d]));
  const distributors = new Map(distributorRows.map((o) => [String(o._id), o]));
  input.lines.forEach((l, i) => {
    if (!drugs.has(l.drugId)) problems.push({ code: 'UNKNOWN_DRUG', message: msg('errorCodes.UNKNOWN_DRUG', { value: i + 1 }), line: i + 1 });
    if (!distributors.has(l.distributorOrgId)) problems.push({ code: 'UNKNOWN_DISTRIBUTOR', message: msg('errorCodes.UNKNOWN_DISTRIBUTOR', { value: i + 1 }), line: i + 1 });
  });
  if (problems.length) throw refuse(problems);

  // NOTE: the credit gate — a distributor without a signed commitment, or suspended, cannot be chosen.
  // A known pass is answered from memory; credit facts that could end it evict it (credit.gate.ts).
  // A refusal by the gate comes before any refusal of a price.
  await Promise.all(distributorIds.map((d) => assertMayTradeCached(d, 'be_chosen')));
  const prices = await pricing;
  const changed: { code: string; message: Message; line: number; expectedUnitPriceFen: number; unitPriceFen: number }[] = [];
  prices.forEach((p, i) => {
    if (!p.ok) problems.push({ code: p.code, message: p.message, line: i + 1 });
    else {
      const expected = input.lines[i]!.expectedUnitPriceFen;
      if (expected !== undefined && expected !== p.unitPriceFen) {
        changed.push({ code: 'PRICE_CHANGED', message: msg('errorCodes.PRICE_CHANGED', { value: i + 1, unitPriceFen: fen(p.unitPriceFen), expected: fen(expected) }), line: i + 1, expectedUnitPriceFen: expected, unitPriceFen: p.unitPriceFen });
      }
    }
  });
  if (problems.length) throw refuse(problems);
  if (changed.length) throw new ConflictError({ code: 'PRICE_CHANGED', message: changed[0]!.message, details: changed });

  const confirmBy = confirmDeadline(at, settings.orders.confirmWithinSec / 3600);
  const byDistributor = new Map<string, OrderLine[]>();
  input.lines.forEach((l, i) => {
    const p = prices[i]!;
    if (!p.ok) return;
    const lines = byDistributor.get(l.distributorOrgId) ?? [];
    lines.push(lineFrom(lines.length, drugs.get(l.drugId)!, { kind: l.source, ...(p.refId ? { refId: p.refId } : {}) }, l.quantity, p.unitPriceFen));
    byDistributor.set(l.distributorOrgId, lines);
  });
  const groups = [...byDistributor].map(([distributorOrgId, lines]) => ({ distributorOrgId, lines, totalFen: lines.reduce((sum, l) => sum + l.amountFen, 0) }));
  if (groups.some((g) => !Number.isSafeInteger(g.totalFen))) throw new RuleViolationError({ code: 'ORDER_TOO_LARGE', message: msg('errorCodes.ORDER_TOO_LARGE') });
  // NOTE: numbered once everything is checked, so a refusal uses no number (usually from memory: orders.numbering.ts).
  const orderNos = await nextOrderNos(at, groups.length);
  const docs = groups.map(
    ({ distributorOrgId, lines, totalFen }, i): OrderDoc => ({
      _id: new Types.ObjectId(),
      orderNo: orderNos[i]!,
      hospitalOrgId: oid(actor.orgId),
      hospitalName: hospital.name,
      deliveryAddress: hospital.address!,
      distributorOrgId: oid(distributorOrgId),
      distributorName: distributors.get(distributorOrgId)!.name,
      placedById: oid(actor.id),
      placedByName: actor.name,
      urgency: input.urgency,
      status: 'placed',
      lines,
      totalFen,
      ...(input.note ? { note: input.note } : {}),
      placedAt: at,
      confirmBy,
      events: [eventOf(actor, undefined, 'placed', at)],
    }),
  );
  return withCommand(actor, async (uow) => {
    uow.insert(Order, docs);
    for (const o of docs) placed(uow, o);
    return { data: docs.map((o) => orderView(o, actor.role)) };
  });
}

export async function getOrder(actor: Actor, id: string) {
  return orderView(await loadOrder(actor, id), actor.role);
}

function listFilter(actor: Actor, q: OrderListQueryInput): Record<string, unknown> {
  const filter: Record<string, unknown> = { ...scopeFilter(actor), ...beforeCursor('placedAt', q.cursor) };
  if (q.status) filter.status = q.status;
  else if (q.open === true) filter.status = trusted({ $nin: TERMINAL_ORDER_STATES });
  else if (q.open === false) filter.status = trusted({ $in: TERMINAL_ORDER_STATES });
  return filter;
}

/** The caller's orders (hospital: its own; distributor: incoming; operator: all), newest first. */
export async function listOrders(actor: Actor, q: OrderListQueryInput) {
  const rows = await Order.find(listFilter(actor, q)).sort({ placedAt: -1, _id: -1 }).limit(q.limit + 1).lean<OrderDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.placedAt);
  return { data: page.rows.map((o) => orderView(o, actor.role)), nextCursor: page.nextCursor };
}

/** What a row of the orders list page shows: no lines, no events. */
const ROW_FIELDS = { orderNo: 1, status: 1, urgency: 1, hospitalName: 1, distributorName: 1, totalFen: 1, placedAt: 1, confirmBy: 1, deliverBy: 1, deliveredAt: 1, cancelledAt: 1, missed: 1 } as const;
export type OrderRow = Pick<OrderDoc, '_id' | keyof typeof ROW_FIELDS>;

/** The same page of orders as `listOrders`, reading only the fields a row of the list page shows. */
export async function listOrderRows(actor: Actor, q: OrderListQueryInput) {
  const rows = await Order.find(listFilter(actor, q), ROW_FIELDS).sort({ placedAt: -1, _id: -1 }).limit(q.limit + 1).lean<OrderRow[]>();
  const page = pageOf(rows, q.limit, (r) => r.placedAt);
  return { data: page.rows.map(orderRowView), nextCursor: page.nextCursor };
}

/**
 * The distributor answers: in full, or per line with a confirmed quantity, a backordered quantity
 * (re-issued as a new order for the rest) and a reason for any shortfall.
 */
export async function confirmOrder(actor: Actor, id: string, input: ConfirmInput) {
  const order = await loadOrder(actor, id);
  const partial = !!input.lines?.some((l) => l.confirmedQty !== order.lines.find((x) => x.lineNo === l.lineNo)?.quantity);
  assertMove(order, partial ? 'partially_confirmed' : 'confirmed', actor);
  await assertMayTrade(actor.orgId, 'confirm_order');

  const problems: { code: string; message: Message; lineNo: number }[] = [];
  const byLine = new Map<number, NonNullable<ConfirmInput['lines']>[number]>();
  for (const l of input.lines ?? []) {
    if (byLine.has(l.lineNo)) problems.push({ code: 'DUPLICATE_LINE', message: msg('errorCodes.DUPLICATE_LINE', { lineNo: l.lineNo }), lineNo: l.lineNo });
    byLine.set(l.lineNo, l);
    if (!order.lines.some((x) => x.lineNo === l.lineNo)) problems.push({ code: 'UNKNOWN_LINE', message: msg('errorCodes.UNKNOWN_LINE_2', { lineNo: l.lineNo }), lineNo: l.lineNo });
  }
  const lines = order.lines.map((l) => {
    const c = byLine.get(l.lineNo);
    const confirmedQty = c ? c.confirmedQty : l.quantity;
    const backorderedQty = c ? c.backorderQty : 0;
    if (confirmedQty > l.quantity) problems.push({ code: 'QUANTITY_EXCEEDS_ORDERED', message: msg('errorCodes.QUANTITY_EXCEEDS_ORDERED', { lineNo: l.lineNo, confirmedQty: confirmedQty, quantity: l.quantity }), lineNo: l.lineNo });
    else if (confirmedQty + backorderedQty > l.quantity) problems.push({ code: 'QUANTITY_EXCEEDS_ORDERED', message: msg('errorCodes.QUANTITY_EXCEEDS_ORDERED_2', { lineNo: l.lineNo, value: confirmedQty + backorderedQty, quantity: l.quantity }), lineNo: l.lineNo });
    else if (confirmedQty < l.quantity && !c?.reason) problems.push({ code: 'REASON_REQUIRED', message: msg('errorCodes.REASON_REQUIRED', { lineNo: l.lineNo }), lineNo: l.lineNo });
    return { ...l, confirmedQty, backorderedQty, ...(c?.reason && confirmedQty < l.quantity ? { shortfallReason: c.reason } : {}) };
  });
  if (problems.length === 0 && lines.every((l) => l.confirmedQty === 0)) {
    problems.push({ code: 'NOTHING_CONFIRMED', message: msg('errorCodes.NOTHING_CONFIRMED'), lineNo: 0 });
  }
  if (problems.length) throw refuse(problems);

  const at = now();
  const to = lines.every((l) => l.confirmedQty === l.quantity) ? 'confirmed' : 'partially_confirmed';
  const s = (await getSettings()).orders;
  const deliverBy = deliveryDeadline(at, order.urgency === 'urgent', { urgentHours: s.deliverUrgentWithinSec / 3600, regularHours: s.deliverRegularWithinSec / 3600 });
  const within = order.urgency === 'urgent' ? s.deliverUrgentWithinSec : s.deliverRegularWithinSec;
  const notDeliveredBy = new Date(at.getTime() + Math.max(within, s.notDeliveredAfterSec) * 1000);
  const backorder = lines.filter((l) => l.backorderedQty > 0);
  const backorderDoc = backorder.length ? await backorderOf(actor, { ...order, lines }, backorder, at) : undefined;
  return withCommand(actor, async (uow) => {
    const updated = await applyMove(actor, order, to, { at, session: uow.session, reason: input.note, set: { lines, respondedAt: at, deliverBy, notDeliveredBy } });
    uow.audit({ action: `order.${to === 'confirmed' ? 'confirm' : 'confirm_partially'}`, targetType: 'order', targetId: id, summary: msg(`orders.audit.${to}`, { orderNo: order.orderNo }) });
    statusChanged(uow, order, updated, { reason: input.note });
    if (at.getTime() > updated.confirmBy.getTime()) await markMissed(uow, updated, 'confirmation');
    if (backorderDoc) {
      uow.insert(Order, [backorderDoc]);
      placed(uow, backorderDoc);
    }
    return orderView(updated, actor.role);
  });
}

/** The backordered quantities become a new order from the same distributor at the locked prices. */
async function backorderOf(actor: Actor, parent: OrderDoc, lines: OrderLine[], at: Date): Promise<OrderDoc> {
  const settings = await getSettings();
  const backLines = lines.map((l, i) => ({
    ...l,
    lineNo: i + 1,
    quantity: l.backorderedQty,
    amountFen: l.backorderedQty * l.unitPriceFen,
    confirmedQty: 0,
    backorderedQty: 0,
    shortfallReason: undefined,
    shippedQty: 0,
    acceptedQty: 0,
    refusedQty: 0,
  }));
  const doc: OrderDoc = {
    ...parent,
    _id: new Types.ObjectId(),
    orderNo: await nextOrderNo(at),
    status: 'placed',
    lines: backLines,
    totalFen: backLines.reduce((s, l) => s + l.amountFen, 0),
    backorderOf: parent._id,
    placedAt: at,
    confirmBy: confirmDeadline(at, settings.orders.confirmWithinSec / 3600),
    events: [eventOf(actor, undefined, 'placed', at, `backorder of ${parent.orderNo}`)],
  };
  for (const k of ['respondedAt', 'deliverBy', 'notDeliveredBy', 'shippedAt', 'deliveredAt', 'acceptedAt', 'cancelledAt', 'reason', 'missed', 'invoiceId', 'invoiceDueAt', 'note'] as const) delete doc[k];
  return doc;
}

/** The distributor refuses the order; refusing a hospital that ordered from its current listing is a breach. */
export async function rejectOrder(actor: Actor, id: string, reason: string) {
  const order = await loadOrder(actor, id);
  assertMove(order, 'rejected', actor);
  const at = now();
  const listed: string[] = [];
  for (const l of order.lines.filter((x) => x.source.kind === 'listing')) {
    if (await stillListed(String(l.drugId), String(order.distributorOrgId), at)) listed.push(String(l.drugId));
  }
  return withCommand(actor, async (uow) => {
    const updated = await applyMove(actor, order, 'rejected', { at, session: uow.session, reason, set: { respondedAt: at, reason } });
    uow.audit({ action: 'order.reject', targetType: 'order', targetId: id, summary: msg('orders.audit.rejected', { orderNo: order.orderNo, reason }) });
    statusChanged(uow, order, updated, { reason });
    if (at.getTime() > updated.confirmBy.getTime()) await markMissed(uow, updated, 'confirmation');
    if (listed.length) uow.emit(OrderRefusedListedHospital, { ...orderRef(updated), at: at.toISOString(), reason, drugIds: listed }, { key: `order-refused-listed:${id}` });
    return orderView(updated, actor.role);
  });
}

/** The hospital (or the operator) cancels before shipment, with a reason. */
export async function cancelOrder(actor: Actor, id: string, reason: string) {
  const order = await loadOrder(actor, id);
  const at = now();
  return withCommand(actor, async (uow) => {
    const updated = await applyMove(actor, order, 'cancelled', { at, session: uow.session, reason, set: { cancelledAt: at, reason } });
    uow.audit({ action: 'order.cancel', targetType: 'order', targetId: id, summary: msg('orders.audit.cancelled', { orderNo: order.orderNo, reason }) });
    statusChanged(uow, order, updated, { reason });
    return orderView(updated, actor.role);
  });
}

export interface ListingChoice {
  listingId: string;
  roundId: string;
  distributorOrgId: string;
  distributorName: string;
  unitPriceFen: number;
  expiresAt: string;
  credit: { grade: string; score: number; riskWarning: boolean; suspended: boolean } | null;
}

/** The current listings of a drug, cheapest first, with each distributor's credit badge (for the cart). */
export async function listingChoices(drugId: string): Promise<{ data: ListingChoice[] }> {
  const entries = await listingsForDrug(drugId, now());
  const badges = await creditBadges(entries.map((e) => String(e.distributorOrgId)));
  return {
    data: entries.map((e) => {
      const b = badges.get(String(e.distributorOrgId));
      return {
        listingId: String(e.listingId),
        roundId: String(e.roundId),
        distributorOrgId: String(e.distributorOrgId),
        distributorName: e.distributorName,
        unitPriceFen: e.unitPriceFen,
        expiresAt: new Date(e.expiresAt).toISOString(),
        credit: b ? { grade: b.grade, score: b.score, riskWarning: b.riskWarning, suspended: b.suspended } : null,
      };
    }),
  };
}

/**
 * Distributors found by name fragment, pinyin initials or full pinyin (the order form's picker), each
 * with its credit grade and whether a sanction suspends its trading now.
 */
export async function distributorChoices(actor: Actor, q: DistributorSearchInput, lang: 'zh' | 'en'): Promise<{ data: DistributorChoiceT[] }> {
  const found = await searchOrganisations(actor, { q: q.q, type: 'distributor', limit: q.limit }, lang);
  const badges = await creditBadges(found.data.map((o) => o.id));
  return {
    data: found.data.map((o) => {
      const b = badges.get(o.id);
      return {
        id: o.id,
        name: o.name,
        label: o.label,
        credit: b ? { grade: b.grade, score: b.score, riskWarning: b.riskWarning, suspended: b.suspended } : null,
        trading: b?.suspended ? 'suspended' : 'open',
      };
    }),
  };
}

// Automatic breaches from other modules' facts: one breach per fact (its event key), never twice.
// Each subscriber runs in its own unit of work with its receipt, so the breach, its snapshot,
// sanctions, audit entries and facts commit together with the record that the fact was handled.
import { OrderDeadlineMissed, OrderQualityRefusal, OrderRefusedListedHospital } from '../../events/orders';
import { QuoteWithdrawnAfterPublication } from '../../events/quotation';
import { SupplyFailureDeclared } from '../../events/vbp';
import { platform } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import type { DomainEvent } from '../../platform/events';
import { onEventInTransaction } from '../../platform/relay';
import type { UnitOfWork } from '../../platform/unit-of-work';
import { recordBreachIn } from './credit.breaches';
import type { BreachCode } from './credit.score';

interface Fact {
  distributorOrgId: string;
  at: string;
  description: string;
  reference: Record<string, string | number>;
}

async function breachFrom(e: DomainEvent, uow: UnitOfWork, code: BreachCode, fact: Fact): Promise<void> {
  try {
    await recordBreachIn(uow, {
      orgId: fact.distributorOrgId,
      code,
      occurredAt: new Date(fact.at),
      sourceKey: e.key,
      source: 'automatic',
      sourceType: e.type,
      description: fact.description,
      reference: fact.reference,
    });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    // NOTE: a fact about an organisation that is not a distributor cannot become valid by retrying;
    // the refusal comes before any write, so the receipt commits alone.
    platform().logger.error({ type: e.type, key: e.key, code: err.code }, 'credit: ignored a fact about an unknown distributor');
  }
}

const MISSED: Record<'confirmation' | 'delivery' | 'notDelivered', { code: BreachCode; zh: (no: string) => string }> = {
  confirmation: { code: 'LATE_CONFIRMATION', zh: (no) => `订单 ${no} 未在规定时限内确认。` },
  delivery: { code: 'LATE_DELIVERY', zh: (no) => `订单 ${no} 未在规定时限内配送到位。` },
  notDelivered: { code: 'CONFIRMED_NOT_DELIVERED', zh: (no) => `订单 ${no} 已确认但未配送。` },
};

export const automaticBreachSubscribers = [
  onEventInTransaction(OrderDeadlineMissed, 'credit.breach-from-missed-deadline', (e, uow) => {
    const p = e.payload;
    const m = MISSED[p.kind];
    return breachFrom(e, uow, m.code, { distributorOrgId: p.distributorOrgId, at: p.deadline, description: m.zh(p.orderNo), reference: { orderId: p.orderId, orderNo: p.orderNo, hospitalOrgId: p.hospitalOrgId, deadline: p.deadline } });
  }),
  onEventInTransaction(OrderQualityRefusal, 'credit.breach-from-quality-refusal', (e, uow) => {
    const p = e.payload;
    return breachFrom(e, uow, 'QUALITY_REFUSAL', {
      distributorOrgId: p.distributorOrgId,
      at: p.at,
      description: `订单 ${p.orderNo} 验收时因质量问题拒收 ${p.refusedQuantity} 件${p.reason ? `（${p.reason}）` : ''}。`,
      reference: { orderId: p.orderId, orderNo: p.orderNo, drugName: p.drugName, batchNo: p.batchNo, refusedQuantity: p.refusedQuantity },
    });
  }),
  onEventInTransaction(OrderRefusedListedHospital, 'credit.breach-from-refused-hospital', (e, uow) => {
    const p = e.payload;
    return breachFrom(e, uow, 'REFUSED_LISTED_HOSPITAL', { distributorOrgId: p.distributorOrgId, at: p.at, description: `拒绝配送挂网药品订单 ${p.orderNo}。`, reference: { orderId: p.orderId, orderNo: p.orderNo, reason: p.reason } });
  }),
  onEventInTransaction(QuoteWithdrawnAfterPublication, 'credit.breach-from-withdrawn-quote', (e, uow) => {
    const p = e.payload;
    return breachFrom(e, uow, 'QUOTE_WITHDRAWN_AFTER_PUBLICATION', { distributorOrgId: p.distributorOrgId, at: p.at, description: `报价挂网公布后撤回（${p.roundNo}，${p.drugName}）。`, reference: { roundId: p.roundId, quoteId: p.quoteId, listingId: p.listingId, reason: p.reason } });
  }),
  onEventInTransaction(SupplyFailureDeclared, 'credit.breach-from-supply-failure', (e, uow) => {
    const p = e.payload;
    return breachFrom(e, uow, 'VBP_SUPPLY_FAILURE', {
      distributorOrgId: p.distributorOrgId,
      at: p.at,
      description: `带量采购协议 ${p.contractNo}（${p.drugName}）中选后未按约定供应：${p.reason}`,
      reference: { contractId: p.contractId, contractNo: p.contractNo, remainingQty: p.remainingQty },
    });
  }),
];

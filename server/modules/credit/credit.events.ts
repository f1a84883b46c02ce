// Automatic breaches from the order and quotation modules' domain events: one breach per event key.
import { z } from 'zod';
import { platform } from '../../platform/context';
import { subscribe } from '../../platform/events';
import { NotFoundError } from '../../platform/errors';
import { ObjectIdString } from '../../platform/schemas';
import { recordBreach } from './credit.breaches';
import type { BreachCode } from './credit.score';

const When = z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]);

const OrderFact = z
  .object({ orderId: z.string(), orderNo: z.string().optional(), distributorOrgId: ObjectIdString, hospitalOrgId: z.string().optional(), at: When.optional() })
  .loose();

const QuoteWithdrawn = z
  .object({ roundId: z.string(), lineId: z.string().optional(), quoteId: z.string(), distributorOrgId: ObjectIdString, drugId: z.string().optional(), at: When.optional() })
  .loose();

const SupplyFailure = z
  .object({ contractId: z.string(), contractNo: z.string().optional(), distributorOrgId: ObjectIdString, drugName: z.string().optional(), reason: z.string().optional(), at: When.optional() })
  .loose();

interface Mapping {
  code: BreachCode;
  schema: typeof OrderFact | typeof QuoteWithdrawn | typeof SupplyFailure;
  describe: (p: Record<string, unknown>) => string;
}

const orderNo = (p: Record<string, unknown>) => String(p.orderNo ?? p.orderId);

/** Event type → breach code (DESIGN §3.5 automatic breaches). */
export const AUTOMATIC_BREACHES: Readonly<Record<string, Mapping>> = Object.freeze({
  'orders.confirmation_late': { code: 'LATE_CONFIRMATION', schema: OrderFact, describe: (p) => `订单 ${orderNo(p)} 未在规定时限内确认。` },
  'orders.delivery_late': { code: 'LATE_DELIVERY', schema: OrderFact, describe: (p) => `订单 ${orderNo(p)} 未在规定时限内配送到位。` },
  'orders.not_delivered': { code: 'CONFIRMED_NOT_DELIVERED', schema: OrderFact, describe: (p) => `订单 ${orderNo(p)} 已确认但未配送。` },
  'orders.refused_listed_hospital': { code: 'REFUSED_LISTED_HOSPITAL', schema: OrderFact, describe: (p) => `拒绝配送挂网药品订单 ${orderNo(p)}。` },
  'orders.quality_refusal': {
    code: 'QUALITY_REFUSAL',
    schema: OrderFact,
    describe: (p) => `订单 ${orderNo(p)} 验收时因质量问题拒收${p.refusedQuantity ? ` ${String(p.refusedQuantity)} 件` : ''}${p.reason ? `（${String(p.reason)}）` : ''}。`,
  },
  'quotation.quote_withdrawn_after_publication': { code: 'QUOTE_WITHDRAWN_AFTER_PUBLICATION', schema: QuoteWithdrawn, describe: () => '报价挂网公布后撤回。' },
  // NOTE: the operator declares a VBP supply failure on the contract (vbp module); that declaration is the finding.
  'vbp.supply_failure': {
    code: 'VBP_SUPPLY_FAILURE',
    schema: SupplyFailure,
    describe: (p) => `带量采购协议 ${String(p.contractNo ?? p.contractId)}${p.drugName ? `（${String(p.drugName)}）` : ''}中选后未按约定供应${p.reason ? `：${String(p.reason)}` : ''}。`,
  },
});

/** Subscribes the credit module to every event that raises a breach (called once at start-up). */
export function subscribeCreditEvents(): void {
  for (const [type, mapping] of Object.entries(AUTOMATIC_BREACHES)) {
    subscribe(type, async (event) => {
      const parsed = mapping.schema.safeParse(event.payload);
      if (!parsed.success) {
        // NOTE: a malformed fact cannot become valid by retrying; log it loudly and let the dispatch finish.
        platform().logger.error({ type, key: event.key, issues: parsed.error.issues }, 'credit: ignored an event without a valid distributor');
        return;
      }
      const p = parsed.data as Record<string, unknown> & { distributorOrgId: string; at?: Date };
      try {
        await recordBreach({
        orgId: p.distributorOrgId,
        code: mapping.code,
        occurredAt: p.at ?? event.occurredAt,
        sourceKey: event.key,
        source: 'automatic',
        sourceType: type,
        description: mapping.describe(p),
          reference: Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'at').map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : v])),
        });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        platform().logger.error({ type, key: event.key, code: err.code }, 'credit: ignored an event about an unknown distributor');
      }
    });
  }
}

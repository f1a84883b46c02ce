import { Types } from 'mongoose';
import { trusted } from '../../platform/mongo';
import { Organisation } from '../identity';
import type { InvoiceDoc } from './finance.model';

/** Names of organisations by id (one query), for lists that show hospitals, distributors and banks. */
export async function orgNames(ids: (string | Types.ObjectId | undefined)[]): Promise<Map<string, { name: string; hospitalLevel?: number }>> {
  const unique = [...new Set(ids.filter((x): x is string | Types.ObjectId => !!x).map(String))];
  if (unique.length === 0) return new Map();
  const orgs = await Organisation.find({ _id: trusted({ $in: unique.map((id) => new Types.ObjectId(id)) }) }, { name: 1, hospitalLevel: 1 }).lean<{ _id: Types.ObjectId; name: string; hospitalLevel?: number }[]>();
  return new Map(orgs.map((o) => [String(o._id), { name: o.name, hospitalLevel: o.hospitalLevel ?? undefined }]));
}

/** The JSON shape of an invoice. */
export function invoiceView(inv: InvoiceDoc, names: Map<string, { name: string }> = new Map()) {
  return {
    id: String(inv._id),
    invoiceNo: inv.invoiceNo,
    orderId: String(inv.orderId),
    orderNo: inv.orderNo,
    hospitalOrgId: String(inv.hospitalOrgId),
    hospitalName: names.get(String(inv.hospitalOrgId))?.name,
    distributorOrgId: String(inv.distributorOrgId),
    distributorName: names.get(String(inv.distributorOrgId))?.name,
    lines: inv.lines.map((l) => ({ drugId: String(l.drugId), drugName: l.drugName, quantity: l.quantity, unitPriceFen: l.unitPriceFen, amountFen: l.amountFen })),
    amountFen: inv.amountFen,
    paidFen: inv.paidFen,
    unpaidFen: inv.amountFen - inv.paidFen,
    acceptedAt: inv.acceptedAt.toISOString(),
    dueAt: inv.dueAt.toISOString(),
    status: inv.status,
    paidAt: inv.paidAt?.toISOString(),
    paidOnTime: inv.paidOnTime ?? undefined,
    settledAt: inv.settledAt?.toISOString(),
    settlement: inv.settlement
      ? { outcome: inv.settlement.outcome, fromAccountFen: inv.settlement.fromAccountFen, advanceFen: inv.settlement.advanceFen, unpaidFen: inv.settlement.unpaidFen }
      : undefined,
    payments: inv.payments.map((p) => ({ at: p.at.toISOString(), amountFen: p.amountFen, fromAccountFen: p.fromAccountFen, advancedFen: p.advancedFen, source: p.source })),
  };
}

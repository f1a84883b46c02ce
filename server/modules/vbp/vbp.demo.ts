// Demo data: a closed declaration of the demo hospitals for the demo VBP drugs, a tender on it with
// bids from the demo distributors, opened and awarded by the same services as a real one (so the
// contracts, completion checks and OCDS export are real), and an open declaration to fill in.
import type { Logger } from '../../platform/logger';
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { addDays } from '../../platform/time';
import { currentReferencePriceFen, Drug } from '../catalogue';
import { Organisation, User } from '../identity';
import { openTender } from './vbp.award';
import { formatNumber, reserveNumbers } from './vbp.common';
import { createDeclaration } from './vbp.declarations';
import { Bid, Declaration, DeclarationEntry, Tender } from './vbp.model';
import { getVbpSettings } from './vbp.settings';

const DEMO_DRUGS = ['demo:amoxicillin', 'demo:metformin', 'demo:atorvastatin'];
const TENDER_TITLE = '示范市第一批药品带量采购';
/** Annual boxes per hospital level, scaled per drug. */
const DEMAND_BY_LEVEL: Record<number, number> = { 3: 12_000, 2: 6_000, 1: 1_500 };
/** Bid as a share of the ceiling (bp), by distributor: three win within 1.8 × anchor, the fourth is not shortlisted. */
const BID_SHARE_BP = [5500, 6200, 7000, 9500];

interface DemoOrgDoc {
  _id: import('mongoose').Types.ObjectId;
  name: string;
  type: string;
  hospitalLevel?: number;
  demoKey?: string;
}

export async function seedDemoVbp(logger: Logger): Promise<void> {
  if (await Tender.exists({ title: TENDER_TITLE })) return;
  const orgs = await Organisation.find({ demoKey: trusted({ $exists: true }) }).sort({ demoKey: 1 }).lean<DemoOrgDoc[]>();
  const hospitals = orgs.filter((o) => o.type === 'hospital');
  const distributors = orgs.filter((o) => o.type === 'distributor');
  const operatorOrg = orgs.find((o) => o.type === 'operator');
  const operatorUser = operatorOrg ? await User.findOne({ orgId: operatorOrg._id, role: 'operator' }).lean<{ _id: unknown; name: string }>() : null;
  const drugs = await Drug.find({ demoKey: trusted({ $in: DEMO_DRUGS }) }).lean<{ _id: import('mongoose').Types.ObjectId; demoKey: string; genericNameZh: string; genericNameEn: string; specification: string; packUnit: string; manufacturer: string; nhsaCode: string; formClass: string }[]>();
  if (!hospitals.length || distributors.length < 2 || !drugs.length || !operatorOrg || !operatorUser) {
    logger.warn('vbp demo skipped: demo organisations or VBP drugs missing');
    return;
  }
  const settings = await getVbpSettings();
  const at = now();
  const actor = { id: String(operatorUser._id), sessionId: 'demo', email: 'operator@demo.gpo', name: operatorUser.name, role: 'operator' as const, orgId: String(operatorOrg._id), orgType: 'operator' as const, orgName: operatorOrg.name };
  const drugFields = drugs.map((d) => ({ drugId: d._id, genericNameZh: d.genericNameZh, genericNameEn: d.genericNameEn, specification: d.specification, packUnit: d.packUnit, manufacturer: d.manufacturer, nhsaCode: d.nhsaCode, formClass: d.formClass }));
  const declaration = await Declaration.create({
    title: `${TENDER_TITLE}需求申报`,
    drugs: drugFields,
    deadline: addDays(at, -7),
    minShareOfLastYearBp: settings.declaration.minShareOfLastYearBp,
    remindBeforeDeadlineSec: settings.declaration.remindBeforeDeadlineSec,
    lastYearFrom: addDays(at, -372),
    lastYearTo: addDays(at, -7),
    createdAt: addDays(at, -30),
    createdById: operatorUser._id,
    createdByName: operatorUser.name,
  });
  const demands = new Map<string, { hospitalOrgId: unknown; hospitalName: string; quantity: number; preferredDistributorOrgId: null }[]>();
  for (const [i, drug] of drugs.entries()) {
    const rows = hospitals.map((h) => ({ hospitalOrgId: h._id, hospitalName: h.name, quantity: Math.round((DEMAND_BY_LEVEL[h.hospitalLevel ?? 2] ?? 3000) * (1 + i * 0.25)), preferredDistributorOrgId: null }));
    demands.set(String(drug._id), rows);
    for (const r of rows) {
      await DeclarationEntry.create({
        declarationId: declaration._id,
        hospitalOrgId: r.hospitalOrgId,
        hospitalName: r.hospitalName,
        drugId: drug._id,
        quantity: r.quantity,
        lastYearQty: Math.round(r.quantity * 1.1),
        lastYearSource: 'hospital',
        source: 'form',
        submittedAt: addDays(at, -10),
        submittedById: operatorUser._id,
        submittedByName: '示范数据',
      });
    }
  }
  const { day, first } = await reserveNumbers('T', at, 1);
  const ceilings = new Map<string, number>();
  for (const d of drugs) ceilings.set(String(d._id), (await currentReferencePriceFen(String(d._id), at)) ?? 1200);
  const tender = await Tender.create({
    tenderNo: formatNumber('VBP-T', day, first, 3),
    title: TENDER_TITLE,
    declarationId: declaration._id,
    status: 'bidding',
    visibility: settings.tender.visibility,
    closesAt: addDays(at, -1),
    rules: settings.tender.selection,
    useFewBiddersRule: settings.tender.useFewBiddersRule,
    followWindowSec: settings.tender.followWindowSec,
    backupPrice: settings.tender.backupPrice,
    checkpointShareBp: settings.completion.checkpointShareBp,
    bidSeq: 0,
    lines: drugs.map((d, i) => {
      const ceilingFen = ceilings.get(String(d._id))!;
      const rows = demands.get(String(d._id))!;
      return { ...drugFields[i], ceilingFen, pooledQty: rows.reduce((s, r) => s + r.quantity, 0), demands: rows, selection: null };
    }),
    createdAt: addDays(at, -6),
    createdById: operatorUser._id,
    createdByName: operatorUser.name,
  });
  for (const line of tender.lines) {
    for (const [k, d] of distributors.slice(0, BID_SHARE_BP.length).entries()) {
      const ceiling = ceilings.get(String(line.drugId))!;
      const submittedAt = addDays(at, -2);
      await Bid.create({ tenderId: tender._id, lineId: line._id, distributorOrgId: d._id, distributorName: d.name, priceFen: Math.round((ceiling * BID_SHARE_BP[k]!) / 10_000), submittedAt, firstSubmittedAt: submittedAt, revisions: 1, submittedById: operatorUser._id });
    }
  }
  await openTender(String(tender._id), actor);
  await createDeclaration(actor, { title: '示范市第二批药品带量采购需求申报', drugIds: drugs.map((d) => String(d._id)), deadline: addDays(at, 14).toISOString() });
  logger.info({ tender: tender.tenderNo }, 'vbp demo: awarded tender and an open declaration ready');
}

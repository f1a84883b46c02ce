// Open data: a tender, its awards and its contracts as Open Contracting Data Standard 1.1 releases
// (release package with ocid, id, date, tag, initiationType, parties, buyer, tender, awards,
// contracts). Sealed prices never appear: before the opening only the tender is released, and only
// winning prices are published, as the award results are.
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { Drug } from '../catalogue';
import { fenToYuanString } from '../../platform/money';
import { sameId } from './vbp.common';
import { Contract, type ContractDoc, type TenderDoc } from './vbp.model';
import { getVbpSettings } from './vbp.settings';
import { loadTender } from './vbp.tenders';

const PLATFORM_PARTY = { id: 'GPO', name: '药品集团采购平台' };
const amount = (fen: number) => ({ amount: Number(fenToYuanString(fen)), currency: 'CNY' });

interface Party {
  id: string;
  name: string;
  roles: string[];
}

function tenderStatus(t: TenderDoc): string {
  return t.status === 'bidding' ? 'active' : t.status === 'awaiting_acceptance' ? 'active' : 'complete';
}

/** The OCDS release package of one tender (public open data). */
export async function ocdsPackage(tenderId: string, baseUrl: string) {
  const t = await loadTender(tenderId);
  const { ocds } = await getVbpSettings();
  const ocid = `${ocds.ocidPrefix}-${t.tenderNo}`;
  const contracts = t.status === 'awarded' ? await Contract.find({ tenderId: t._id }).sort({ createdAt: 1, contractNo: 1 }).lean<ContractDoc[]>() : [];
  const parties = new Map<string, Party>([[PLATFORM_PARTY.id, { ...PLATFORM_PARTY, roles: ['buyer', 'procuringEntity'] }]]);
  const addRole = (id: string, name: string, role: string) => {
    const p = parties.get(id) ?? { id, name, roles: [] };
    if (!p.roles.includes(role)) p.roles.push(role);
    parties.set(id, p);
  };
  for (const line of t.lines) for (const d of line.demands) addRole(String(d.hospitalOrgId), d.hospitalName, 'payer');
  for (const c of contracts) addRole(String(c.distributorOrgId), c.distributorName, 'supplier');

  const codes = new Map((await Drug.find({ _id: trusted({ $in: t.lines.map((l) => l.drugId) }) }, { nhsaCode: 1 }).lean<{ _id: unknown; nhsaCode: string }[]>()).map((d) => [String(d._id), d.nhsaCode]));
  const items = t.lines.map((l) => ({
    id: String(l._id),
    description: `${l.genericNameZh} ${l.specification}`,
    // the national medical-insurance drug code, under the same scheme as the quotation rounds use
    classification: { scheme: 'CN-NHSA', id: codes.get(String(l.drugId)) ?? String(l.drugId), description: l.genericNameZh },
    quantity: l.pooledQty,
    unit: { name: l.packUnit, value: amount(l.ceilingFen) },
  }));
  const tender = {
    id: t.tenderNo,
    title: t.title,
    status: tenderStatus(t),
    procuringEntity: { id: PLATFORM_PARTY.id, name: PLATFORM_PARTY.name },
    items,
    value: amount(t.lines.reduce((s, l) => s + l.ceilingFen * l.pooledQty, 0)),
    procurementMethod: 'open',
    procurementMethodDetails: '带量采购 (volume-based procurement), sealed bids, 11th-batch selection rules',
    mainProcurementCategory: 'goods',
    awardCriteria: 'priceOnly',
    submissionMethod: ['electronicSubmission'],
    tenderPeriod: { startDate: t.createdAt.toISOString(), endDate: t.closesAt.toISOString() },
    ...(t.openedAt ? { awardPeriod: { startDate: t.openedAt.toISOString(), ...(t.awardedAt ? { endDate: t.awardedAt.toISOString() } : {}) } } : {}),
    ...(t.openedAt ? { numberOfTenderers: new Set(t.lines.flatMap((l) => (l.selection?.result.bids ?? []).map((b) => b.distributorId))).size } : {}),
  };

  const awards =
    t.status === 'awarded'
      ? t.lines.flatMap((l) =>
          (l.selection?.result.bids ?? [])
            .filter((b) => b.outcome === 'won_direct' || b.outcome === 'won_by_accepting')
            .map((b) => {
              const mine = contracts.filter((c) => sameId(c.lineId, l._id) && String(c.distributorOrgId) === b.distributorId && c.basis !== 'backup_promotion');
              const qty = mine.reduce((s, c) => s + c.agreedQty, 0);
              const name = mine[0]?.distributorName ?? parties.get(b.distributorId)?.name ?? '';
              if (!parties.has(b.distributorId)) addRole(b.distributorId, name, 'supplier');
              return {
                id: `${String(l._id)}-${b.distributorId}`,
                title: `${l.genericNameZh} — ${b.outcome === 'won_direct' ? '直接中选' : '接受中选价中选'}（第 ${b.rank} 名）`,
                status: 'active',
                date: t.awardedAt!.toISOString(),
                value: amount(b.finalPriceFen! * qty),
                suppliers: [{ id: b.distributorId, name }],
                items: [{ id: String(l._id), description: `${l.genericNameZh} ${l.specification}`, quantity: qty, unit: { name: l.packUnit, value: amount(b.finalPriceFen!) } }],
                contractPeriod: mine[0] ? { startDate: mine[0].termStart.toISOString(), endDate: mine[0].termEnd.toISOString() } : undefined,
              };
            }),
        )
      : [];
  const awardIdOf = (c: ContractDoc) => `${String(c.lineId)}-${String(c.distributorOrgId)}`;
  const contractReleases = contracts.map((c) => ({
    id: c.contractNo,
    awardID: awardIdOf(c),
    title: `${c.hospitalName} × ${c.distributorName} × ${c.genericNameZh}`,
    description: c.basis === 'backup_promotion' ? `Backup promotion replacing an earlier contract after a supply failure` : undefined,
    status: c.status === 'active' ? (now().getTime() >= c.termEnd.getTime() ? 'terminated' : 'active') : 'terminated',
    period: { startDate: c.termStart.toISOString(), endDate: c.termEnd.toISOString() },
    value: amount(c.priceFen * c.agreedQty),
    items: [{ id: String(c.lineId), description: `${c.genericNameZh} ${c.specification}`, quantity: c.agreedQty, unit: { name: c.packUnit, value: amount(c.priceFen) } }],
    dateSigned: c.createdAt.toISOString(),
  }));
  // NOTE: a backup promoted after a supply failure may not have won the line; its contract still needs an award to point at.
  for (const c of contracts.filter((x) => x.basis === 'backup_promotion')) {
    if (awards.some((a) => a.id === awardIdOf(c))) continue;
    awards.push({
      id: awardIdOf(c),
      title: `${c.genericNameZh} — 递补供应（第 ${c.rank} 名）`,
      status: 'active',
      date: c.createdAt.toISOString(),
      value: amount(c.priceFen * c.agreedQty),
      suppliers: [{ id: String(c.distributorOrgId), name: c.distributorName }],
      items: [{ id: String(c.lineId), description: `${c.genericNameZh} ${c.specification}`, quantity: c.agreedQty, unit: { name: c.packUnit, value: amount(c.priceFen) } }],
      contractPeriod: { startDate: c.termStart.toISOString(), endDate: c.termEnd.toISOString() },
    });
  }
  const base = { ocid, initiationType: 'tender', buyer: { id: PLATFORM_PARTY.id, name: PLATFORM_PARTY.name }, parties: [...parties.values()] };
  const releases: Record<string, unknown>[] = [{ ...base, id: `${ocid}-tender`, date: t.createdAt.toISOString(), tag: ['tender'], tender }];
  if (t.status === 'awarded') {
    releases.push({ ...base, id: `${ocid}-award`, date: t.awardedAt!.toISOString(), tag: ['award'], tender, awards });
    if (contractReleases.length) {
      const latest = contracts.reduce((m, c) => Math.max(m, c.createdAt.getTime(), c.supplyFailure?.at.getTime() ?? 0), 0);
      releases.push({ ...base, id: `${ocid}-contract-${latest}`, date: new Date(latest).toISOString(), tag: ['contract'], tender, awards, contracts: contractReleases });
    }
  }
  // NOTE: the package is as new as its newest release, so the same state always gives the same document.
  const publishedDate = releases.map((r) => String(r.date)).reduce((a, b) => (a > b ? a : b));
  return {
    uri: `${baseUrl}/api/v1/vbp/tenders/${String(t._id)}/ocds`,
    version: '1.1',
    publishedDate,
    publisher: { name: PLATFORM_PARTY.name },
    license: 'https://creativecommons.org/licenses/by/4.0/',
    releases,
  };
}

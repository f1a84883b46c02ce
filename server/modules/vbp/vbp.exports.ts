// Demand declarations and contracts as Excel downloads: the lists' own filters and scope, headers and
// labels in the reader's language.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import type { DownloadFile } from '../../platform/http';
import { t, type Lang } from '../../platform/i18n';
import { trusted } from '../../platform/mongo';
import { everyPage, xlsxSheet, type SheetSpec } from '../../platform/tabular';
import { businessDay } from '../../platform/time';
import { oid } from './vbp.common';
import { listContracts, type ContractView } from './vbp.contracts';
import { listDeclarations } from './vbp.declarations';
import { DeclarationEntry } from './vbp.model';
import type { ContractListQueryInput } from './vbp.schemas';

const PAGE = 200;

interface DeclarationDrugRow {
  title: string;
  createdAt: string;
  deadline: string;
  open: boolean;
  minShareOfLastYearBp: number;
  nhsaCode: string;
  drugName: string;
  specification: string;
  packUnit: string;
  manufacturer: string;
  hospitals: number;
  quantity: number;
  lastYearQty: number | null;
}

function declarationSheet(lang: Lang, hospital: boolean): SheetSpec<DeclarationDrugRow> {
  return {
    name: 'vbp.export.declarationSheet',
    columns: [
      { header: 'vbp.fields.title', kind: 'text', value: (r) => r.title },
      { header: 'vbp.export.createdAt', kind: 'datetime', value: (r) => r.createdAt },
      { header: 'vbp.fields.deadline', kind: 'datetime', value: (r) => r.deadline },
      { header: 'vbp.export.status', kind: 'text', value: (r) => t(lang, `vbp.declarationStatus.${r.open ? 'open' : 'closed'}`) },
      { header: 'vbp.export.minShare', kind: 'percent', value: (r) => r.minShareOfLastYearBp },
      { header: 'vbp.export.nhsaCode', kind: 'code', value: (r) => r.nhsaCode },
      { header: 'vbp.fields.drug', kind: 'text', value: (r) => r.drugName },
      { header: 'vbp.fields.specification', kind: 'text', value: (r) => r.specification },
      { header: 'vbp.export.packUnit', kind: 'text', value: (r) => r.packUnit },
      { header: 'vbp.fields.manufacturer', kind: 'text', value: (r) => r.manufacturer },
      ...(hospital ? [] : [{ header: 'vbp.export.hospitalsDeclared', kind: 'integer' as const, value: (r: DeclarationDrugRow) => r.hospitals }]),
      { header: hospital ? 'vbp.export.ownQty' : 'vbp.export.totalQty', kind: 'integer', value: (r) => r.quantity },
      { header: 'vbp.fields.lastYearQty', kind: 'integer', value: (r) => r.lastYearQty },
    ],
  };
}

/**
 * Every demand declaration, one row per declared drug: a hospital sees its own declared quantities,
 * the operator the totals over all hospitals.
 */
export async function declarationsXlsx(actor: Actor, lang: Lang): Promise<DownloadFile> {
  const hospital = actor.orgType === 'hospital';
  const rows = everyPage(async (cursor) => {
    const page = await listDeclarations({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    const entries = await DeclarationEntry.find(
      { declarationId: trusted({ $in: page.data.map((d) => oid(d.id)) }), ...(hospital ? { hospitalOrgId: oid(actor.orgId) } : {}) },
      { declarationId: 1, drugId: 1, quantity: 1, lastYearQty: 1 },
    ).lean<{ declarationId: unknown; drugId: unknown; quantity: number; lastYearQty: number | null }[]>();
    const sums = new Map<string, { hospitals: number; quantity: number; lastYearQty: number | null }>();
    for (const e of entries) {
      const key = `${String(e.declarationId)}:${String(e.drugId)}`;
      const s = sums.get(key) ?? { hospitals: 0, quantity: 0, lastYearQty: null };
      s.hospitals += e.quantity > 0 ? 1 : 0;
      s.quantity += e.quantity;
      if (e.lastYearQty !== null && e.lastYearQty !== undefined) s.lastYearQty = (s.lastYearQty ?? 0) + e.lastYearQty;
      sums.set(key, s);
    }
    const data = page.data.flatMap((d) =>
      d.drugs.map((drug) => {
        const s = sums.get(`${d.id}:${drug.drugId}`);
        return {
          title: d.title,
          createdAt: d.createdAt,
          deadline: d.deadline,
          open: d.open,
          minShareOfLastYearBp: d.minShareOfLastYearBp,
          nhsaCode: drug.nhsaCode,
          drugName: lang === 'en' && drug.genericNameEn ? drug.genericNameEn : drug.genericNameZh,
          specification: drug.specification,
          packUnit: drug.packUnit,
          manufacturer: drug.manufacturer,
          hospitals: s?.hospitals ?? 0,
          quantity: s?.quantity ?? 0,
          lastYearQty: s?.lastYearQty ?? null,
        };
      }),
    );
    return { data, nextCursor: page.nextCursor };
  });
  return { filename: `vbp-declarations-${businessDay(now())}.xlsx`, body: await xlsxSheet(declarationSheet(lang, hospital), rows, lang) };
}

function contractSheet(lang: Lang): SheetSpec<ContractView> {
  return {
    name: 'vbp.export.contractSheet',
    columns: [
      { header: 'vbp.fields.contractNo', kind: 'code', value: (c) => c.contractNo },
      { header: 'vbp.fields.tenderNo', kind: 'code', value: (c) => c.tenderNo },
      { header: 'vbp.fields.drug', kind: 'text', value: (c) => (lang === 'en' && c.genericNameEn ? c.genericNameEn : c.genericNameZh) },
      { header: 'vbp.fields.specification', kind: 'text', value: (c) => c.specification },
      { header: 'vbp.fields.hospital', kind: 'text', value: (c) => c.hospitalName },
      { header: 'vbp.fields.winner', kind: 'text', value: (c) => c.distributorName },
      { header: 'vbp.fields.rank', kind: 'integer', value: (c) => c.rank },
      { header: 'vbp.export.priceYuan', kind: 'money', value: (c) => c.priceFen },
      { header: 'vbp.fields.declaredQty', kind: 'integer', value: (c) => c.declaredQty },
      { header: 'vbp.fields.agreedQty', kind: 'integer', value: (c) => c.agreedQty },
      { header: 'vbp.export.amountYuan', kind: 'money', value: (c) => c.amountFen },
      { header: 'vbp.fields.purchasedQty', kind: 'integer', value: (c) => c.purchasedQty },
      { header: 'vbp.fields.remainingQty', kind: 'integer', value: (c) => c.remainingQty },
      { header: 'vbp.fields.progress', kind: 'percent', value: (c) => c.completion.ratioBp },
      { header: 'vbp.export.basis', kind: 'text', value: (c) => t(lang, `vbp.basis.${c.basis}`) },
      { header: 'vbp.export.termStart', kind: 'date', value: (c) => c.termStart },
      { header: 'vbp.fields.termEnd', kind: 'date', value: (c) => c.termEnd },
      { header: 'vbp.export.status', kind: 'text', value: (c) => t(lang, `vbp.contractStatus.${c.status}`) },
    ],
  };
}

/** Every contract the caller may see under the list's filters, newest first, as an .xlsx. */
export async function contractsXlsx(actor: Actor, q: Omit<ContractListQueryInput, 'cursor' | 'limit'>, lang: Lang): Promise<DownloadFile> {
  const rows = everyPage((cursor) => listContracts(actor, { ...q, limit: PAGE, ...(cursor ? { cursor } : {}) }));
  return { filename: `vbp-contracts-${businessDay(now())}.xlsx`, body: await xlsxSheet(contractSheet(lang), rows, lang) };
}

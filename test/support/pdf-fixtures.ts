// Plain data for every kind of PDF document (long enough to span pages), shared by the PDF pool test
// and the PDF bench. The dates are fixed: each document's date comes from its data.
import type { PdfDocumentKind } from '../../server/platform/pdf-documents';
import type { SignedLetter } from '../../server/modules/credit/credit.documents';
import { AgreementDocument, StatementDocument, type AgreementPdfData, type StatementPdfData } from '../../server/modules/finance/finance.documents';
import { DeliveryNoteDocument, PurchaseOrderDocument, type DeliveryNoteData, type PurchaseOrderData } from '../../server/modules/orders/orders.documents';
import { AnnouncementDocument, type AnnouncementData } from '../../server/modules/quotation/quotation.documents';
import { ContractDocument, type ContractPdfData } from '../../server/modules/vbp/vbp.documents';
import { SignedLetterDocument } from '../../server/modules/credit/credit.documents';
import { DashboardReportDocument, type DashboardReport } from '../../server/modules/dashboard/dashboard.documents';

const at = '2026-03-02T01:30:00.000Z';
const drugs = ['注射用尿激酶', '盐酸氨溴索口服溶液', '阿莫西林克拉维酸钾分散片', '注射用头孢哌酮钠舒巴坦钠', '硝酸甘油注射液', '复方甘草酸苷注射液'];

const commitmentText = [
  '示范市短缺药品配送企业信用承诺书',
  ...Array.from({ length: 14 }, (_, i) => `第${i + 1}条　本企业承诺在示范市医疗保障局药品集团采购平台上如实报价，按约定时限响应订单、配送药品并提供随货同行单和追溯码；不以任何方式串通报价、哄抬价格或者拒绝向挂网医疗机构配送。违反承诺的，自愿接受平台按信用管理规定记录失信行为并采取相应措施。`),
].join('\n\n');

export const signedLetter: SignedLetter = {
  versionTitle: '示范市短缺药品配送企业信用承诺书',
  version: 3,
  text: commitmentText,
  orgName: '华南医药配送有限公司（示范市分公司，统一社会信用代码 91440000MA5XXXXXXX）',
  userName: '李明',
  userEmail: 'sales@huanan.demo.gpo',
  signedAt: at,
  ip: '203.0.113.7',
  textSha256: 'a3f1c9e0b5d24c7e8f9a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566',
};

export const purchaseOrder: PurchaseOrderData = {
  orderNo: 'PO20260302-000042',
  placedAt: at,
  confirmBy: '2026-03-03T01:30:00.000Z',
  hospitalName: '示范市人民医院',
  distributorName: '华南医药配送有限公司',
  deliveryAddress: '示范市人民路 1 号 药剂科库房',
  urgency: 'regular',
  placedByName: '王药师',
  note: '请随货附检验报告。',
  totalFen: 0,
  lines: Array.from({ length: 30 }, (_, i) => ({
    lineNo: i + 1,
    drugName: drugs[i % drugs.length]!,
    dosageForm: i % 2 ? '注射剂' : '片剂',
    specification: i % 2 ? '10万单位/支' : '0.25g*24片/盒',
    manufacturer: '示范制药股份有限公司',
    sourceKind: (['listing', 'catalogue', 'contract'] as const)[i % 3]!,
    quantity: 10 + i,
    packUnit: '盒',
    unitPriceFen: 195000 + i * 7,
    amountFen: (195000 + i * 7) * (10 + i),
  })),
};
purchaseOrder.totalFen = purchaseOrder.lines.reduce((n, l) => n + l.amountFen, 0);

export const deliveryNote: DeliveryNoteData = {
  orderNo: purchaseOrder.orderNo,
  hospitalName: purchaseOrder.hospitalName,
  distributorName: purchaseOrder.distributorName,
  deliveryAddress: purchaseOrder.deliveryAddress,
  shipmentNo: 'SH20260302-000007',
  shippedAt: '2026-03-02T06:00:00.000Z',
  shippedByName: '赵发货',
  carrier: '顺丰医药',
  trackingNo: 'SF1234567890123',
  lines: purchaseOrder.lines.slice(0, 12).map((l, i) => ({ drugName: l.drugName, dosageForm: l.dosageForm, specification: l.specification, manufacturer: l.manufacturer, packUnit: l.packUnit, batchNo: `B2026${String(i).padStart(4, '0')}`, expiryDate: '2028-02-29', quantity: l.quantity, codeCount: 3 })),
};

export const agreement: AgreementPdfData = {
  agreementNo: 'GA-2026-0007',
  version: 2,
  at,
  byName: '陈行长',
  limitFen: 500_000_000,
  annualRateBp: 435,
  maxTenorDays: 90,
  expiresAt: '2027-03-01T16:00:00.000Z',
  hospitalName: '示范市人民医院',
  hospitalAddress: '示范市人民路 1 号',
  bankName: '示范农村商业银行',
};

export const statement: StatementPdfData = {
  from: '2026-02-01',
  to: '2026-02-28',
  generatedAt: at,
  hospitalName: '示范市人民医院',
  bankName: '示范农村商业银行',
  lineLimitFen: 500_000_000,
  headroomFen: 321_000_00,
  overdueInvoicesFen: 0,
  overduePrincipalFen: 12_345_00,
  opening: { wc: 1_000_000_00, principal: 0, interest: 0, invoices: 250_000_00 },
  closing: { wc: 812_345_67, principal: 12_345_00, interest: 1_234, invoices: 198_765_43 },
  rows: Array.from({ length: 60 }, (_, i) => ({
    at: `2026-02-${String(1 + (i % 28)).padStart(2, '0')}T02:00:00.000Z`,
    kind: (['invoice', 'settlement', 'interest', 'repayment', 'deposit'] as const)[i % 5]!,
    reference: i % 5 === 0 ? `INV-20260201-${String(i).padStart(6, '0')}` : `JV-2026-${String(i).padStart(8, '0')}`,
    workingCapitalFen: i % 2 ? -12_345 * i : 0,
    principalFen: i % 3 ? 1_000 * i : 0,
    interestFen: i % 5 === 2 ? 123 : 0,
    balanceAfterFen: 1_000_000_00 - 12_345 * i,
  })),
};

export const announcement: AnnouncementData = {
  no: 'QR-2026-003',
  title: '2026 年第三轮短缺药品报价',
  visibility: 'best',
  opensAt: '2026-02-20T01:00:00.000Z',
  closesAt: '2026-02-25T09:00:00.000Z',
  publishedAt: at,
  listingExpiresAt: '2026-08-31T16:00:00.000Z',
  lines: Array.from({ length: 18 }, (_, i) => ({
    no: i + 1,
    genericNameZh: drugs[i % drugs.length]!,
    specification: '10万单位',
    packUnit: '支',
    manufacturer: '示范制药股份有限公司',
    referenceFen: 289000,
    entries: i % 6 === 5 ? [] : Array.from({ length: 1 + (i % 3) }, (_, r) => ({ rank: r + 1, distributorName: ['华南医药配送有限公司', '岭南药业物流有限公司', '北江医药有限公司'][r]!, unitPriceFen: 195000 + r * 1000, reductionBp: 3252 - r * 35 })),
  })),
  overall: { lineCount: 18, quotedLineCount: 15, quoteCount: 30, distributorCount: 3, averageReductionBp: 3100, totalReferenceFen: 18 * 289000, totalBestFen: 15 * 195000, clearlyBelowBp: 3000 },
  clearlyBelowNames: ['注射用尿激酶'],
  withoutQuotesNames: ['复方甘草酸苷注射液'],
};

export const contract: ContractPdfData = {
  contractNo: 'VC-2026-000123',
  tenderNo: 'VT-2026-01',
  hospitalName: '示范市人民医院',
  distributorName: '华南医药配送有限公司',
  genericNameZh: '阿莫西林克拉维酸钾分散片',
  specification: '0.25g*24片/盒',
  packUnit: '盒',
  termStart: '2026-03-31T16:00:00.000Z',
  termEnd: '2027-03-31T15:59:59.999Z',
  createdAt: at,
  basis: 'preferred',
  rank: 1,
  declaredQty: 12000,
  agreedQty: 8400,
  priceFen: 1234,
  shareBp: 7000,
  termYears: 1,
  checkpointShareBp: 8000,
  replacesAnother: false,
};

const months = ['2025-10', '2025-11', '2025-12', '2026-01', '2026-02', '2026-03'];
const totals = (quantity: number, refFen: number, paidFen: number) => ({ quantity, referenceTotalFen: quantity * refFen, paidTotalFen: quantity * paidFen, savedFen: quantity * (refFen - paidFen), reductionBp: Math.round(((refFen - paidFen) * 10_000) / refFen) });
export const dashboardReport: DashboardReport = {
  at,
  filterLabels: ['医院等级：3 级医院'],
  data: {
    from: '2025-10-01',
    to: '2026-03-02',
    filters: { hospitalLevel: 3 },
    savings: {
      total: totals(1_240, 289_000, 195_000),
      rounds: [1, 2].map((r) => ({ ...totals(620, 289_000, 195_000 - r * 5_000), roundId: `r${r}`, roundNo: `DQ2026-00${r}`, title: `第 ${r} 轮短缺药品报价`, lines: drugs.slice(0, 4).map((name, i) => ({ ...totals(155, 289_000 - i * 1_000, 195_000 - r * 5_000), drugId: `d${i}`, drugName: name, referenceFen: 289_000 - i * 1_000, unitPriceFen: 195_000 - r * 5_000 })) })),
      tenders: [{ ...totals(35_000, 500, 320), tenderId: 't1', tenderNo: 'VBP2026-001', title: '第一批带量采购' }],
      contracts: [{ ...totals(35_000, 500, 320), contractId: 'c1', contractNo: 'HT2026-0001', tenderNo: 'VBP2026-001', drugName: drugs[2]!, hospitalName: '示范市人民医院', distributorName: '华南医药配送有限公司', ceilingFen: 500, priceFen: 320 }],
      priceHistory: drugs.slice(0, 3).map((name, i) => ({ drugId: `d${i}`, drugName: name, points: [1, 2].map((r) => ({ roundId: `r${r}`, roundNo: `DQ2026-00${r}`, publishedAt: `2026-0${r}-01T02:00:00.000Z`, referenceFen: 289_000, bestFen: 195_000 - r * 5_000 - i * 1_000 })) })),
    },
    payments: { months: months.map((month, i) => ({ month, paidInvoices: 40 + i, medianDays: 28 + (i % 3), p90Days: 31, invoicesDue: 42 + i, paidOnDueDate: 40 + i, paidOnDueDateBp: Math.round(((40 + i) * 10_000) / (42 + i)), advancedFen: 1_000_000 * i, advances: i, outstandingFen: 800_000 * i })) },
    supply: {
      months: months.map((month, i) => ({ month, deliveriesDue: 100 + i, deliveredOnTime: 95 + i, onTimeBp: Math.round(((95 + i) * 10_000) / (100 + i)) })),
      shortage: { drugs: 274, covered: 230, coveredBp: 8394, uncovered: [] },
      vbp: [{ tenderId: 't1', tenderNo: 'VBP2026-001', drugId: 'd2', drugName: drugs[2]!, contracts: 12, agreedQty: 84_000, purchasedQty: 35_000, completionBp: 4167 }],
    },
    credit: {
      grades: [{ grade: 'A', distributors: 18 }, { grade: 'B', distributors: 4 }, { grade: 'C', distributors: 2 }, { grade: 'D', distributors: 1 }],
      breaches: months.map((month, i) => ({ month, byType: { LATE_DELIVERY: i % 3, MANUAL: i % 2 }, total: (i % 3) + (i % 2) })),
      breachTypes: [{ code: 'LATE_DELIVERY', zh: '延迟配送', en: 'Late delivery', count: 5 }, { code: 'MANUAL', zh: '人工记录', en: 'Recorded by the operator', count: 3 }],
    },
  },
};

/** Every document kind with sample data. */
export const pdfSamples: { kind: PdfDocumentKind<unknown>; data: unknown }[] = [
  { kind: SignedLetterDocument, data: signedLetter },
  { kind: PurchaseOrderDocument, data: purchaseOrder },
  { kind: DeliveryNoteDocument, data: deliveryNote },
  { kind: AgreementDocument, data: agreement },
  { kind: StatementDocument, data: statement },
  { kind: AnnouncementDocument, data: announcement },
  { kind: ContractDocument, data: contract },
  { kind: DashboardReportDocument, data: dashboardReport },
] as { kind: PdfDocumentKind<unknown>; data: unknown }[];

// Demo finance data (demo mode only): the city's people's hospital banks with the rural bank under an
// approved guarantee line, holds an insurance prepayment and has invoices — one settled at its due
// date partly by an advance, one open; the TCM hospital's application waits for the city bank.
// Idempotent: everything is keyed by the demo organisations and fixed request keys.
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import type { Logger } from '../../platform/logger';
import { trusted } from '../../platform/mongo';
import { addDays, businessDay } from '../../platform/time';
import { Organisation, type OrganisationDoc } from '../identity';
import { recordPrepayment } from './finance.accounts';
import { createInvoiceFromAcceptance } from './finance.invoices';
import { applyForLine, approveLine } from './finance.lines';
import { GuaranteeLine } from './finance.model';

function actorOf(org: OrganisationDoc, role: Actor['role'], name: string): Actor {
  return { id: '000000000000000000000000', sessionId: 'demo', email: 'demo@demo.gpo', name, role, orgId: String(org._id), orgType: org.type as Actor['orgType'], orgName: org.name };
}

export async function seedDemoFinance(logger: Logger): Promise<void> {
  const orgs = new Map((await Organisation.find({ demoKey: trusted({ $type: 'string' }) }).lean<OrganisationDoc[]>()).map((o) => [o.demoKey as string, o]));
  const [operator, h3, h2, bank1, bank2, d1, d2] = ['operator', 'hospital-3', 'hospital-2', 'bank-1', 'bank-2', 'distributor-1', 'distributor-2'].map((k) => orgs.get(k));
  if (!operator || !h3 || !h2 || !bank1 || !bank2 || !d1 || !d2) return;
  if (await GuaranteeLine.exists({ hospitalOrgId: h3._id })) return;

  const line = await applyForLine(actorOf(h3, 'hospital_finance', '陈财务'), { bankOrgId: String(bank1._id), amountFen: 5_000_000_00, termMonths: 12, note: '年度药品采购周转' });
  await approveLine(actorOf(bank1, 'bank_officer', '何行长'), line.id, {
    limitFen: 3_000_000_00,
    annualRateBp: 435,
    maxTenorDays: 90,
    expiresOn: businessDay(addDays(now(), 365)),
  });
  await recordPrepayment(actorOf(operator, 'operator', '王运营'), String(h3._id), { amountFen: 120_000_00, reference: 'YB-DEMO-0001' }, 'demo-prepayment-h3');
  const invoice = (key: string, distributor: OrganisationDoc, orderNo: string, drugName: string, quantity: number, unitPriceFen: number, acceptedDaysAgo: number) =>
    createInvoiceFromAcceptance({
      acceptanceKey: `demo-finance-${key}`,
      orderId: String(new Types.ObjectId()),
      orderNo,
      hospitalOrgId: String(h3._id),
      distributorOrgId: String(distributor._id),
      lines: [{ drugId: String(new Types.ObjectId()), drugName, quantity, unitPriceFen, amountFen: quantity * unitPriceFen }],
      amountFen: quantity * unitPriceFen,
      acceptedAt: addDays(now(), -acceptedDaysAgo),
    });
  // Due already: settled by the job when the worker starts — 120,000 from the account, the rest advanced.
  await invoice('1', d1, 'DEMO-F-0001', '注射用尿激酶 10万单位', 100, 1_950_00, 35);
  await invoice('2', d2, 'DEMO-F-0002', '阿莫西林胶囊 0.25g×24粒', 400, 18_50, 12);
  await applyForLine(actorOf(h2, 'hospital_finance', '刘财务'), { bankOrgId: String(bank2._id), amountFen: 2_000_000_00, termMonths: 24, note: '新院区开业备药' });
  logger.info('demo finance data ready');
}

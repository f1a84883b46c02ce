import { Fen, ObjectIdString, PositiveFen, z } from '../../platform/schemas';

/** A business day in Asia/Shanghai, 'YYYY-MM-DD'. */
export const BusinessDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'validationIssues.date')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'validationIssues.realDate')
  .openapi({ example: '2026-12-31' });

export const Month = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'validationIssues.month')
  .openapi({ example: '2026-11' });

const Reason = z.string().trim().min(2).max(500);
const Reference = z.string().trim().min(1).max(100);

/** Annual interest rate in basis points: 0 to 24% (above that no guarantee bank would lend). */
export const AnnualRateBp = z.number().int().min(0).max(2400);
export const TenorDays = z.number().int().min(1).max(365);

export const ApplyLineBody = z
  .object({
    bankOrgId: ObjectIdString,
    amountFen: PositiveFen,
    termMonths: z.number().int().min(1).max(60),
    note: z.string().trim().max(500).optional(),
  })
  .strict()
  .openapi('ApplyLineBody');
export type ApplyLineInput = z.infer<typeof ApplyLineBody>;

export const ApproveLineBody = z
  .object({
    limitFen: PositiveFen,
    annualRateBp: AnnualRateBp,
    maxTenorDays: TenorDays,
    expiresOn: BusinessDay,
  })
  .strict()
  .openapi('ApproveLineBody');
export type ApproveLineInput = z.infer<typeof ApproveLineBody>;

export const ChangeLineBody = ApproveLineBody.partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'validationIssues.changeSomething')
  .openapi('ChangeLineBody');
export type ChangeLineInput = z.infer<typeof ChangeLineBody>;

export const ReasonBody = z.object({ reason: Reason }).strict().openapi('ReasonBody');
export const EmptyBody = z.object({}).strict();

export const MoneyInBody = z
  .object({
    amountFen: PositiveFen,
    reference: Reference.optional(),
  })
  .strict()
  .openapi('MoneyInBody');
export type MoneyInInput = z.infer<typeof MoneyInBody>;

export const RepayBody = z
  .object({
    amountFen: PositiveFen,
    source: z.enum(['account', 'transfer']),
    reference: Reference.optional(),
  })
  .strict()
  .openapi('RepayBody');
export type RepayInput = z.infer<typeof RepayBody>;

export const HospitalParams = z.object({ hospitalOrgId: ObjectIdString }).strict();

export const InvoiceQuery = z
  .object({
    status: z.enum(['open', 'paid', 'overdue']).optional(),
    hospitalOrgId: ObjectIdString.optional(),
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type InvoiceQueryInput = z.infer<typeof InvoiceQuery>;

export const LineQuery = z
  .object({ status: z.enum(['pending', 'active', 'rejected', 'suspended']).optional() })
  .strict();

export const PeriodQuery = z
  .object({ from: BusinessDay, to: BusinessDay, hospitalOrgId: ObjectIdString.optional() })
  .strict()
  .refine((v) => v.from <= v.to, { message: 'validationIssues.fromAfterTo', path: ['to'] });
export type PeriodQueryInput = z.infer<typeof PeriodQuery>;

export const MonthQuery = z.object({ month: Month }).strict();
/** A page of advances or repayments (of a hospital, a bank's hospitals or all), newest first. */
export const HistoryPageQuery = z
  .object({
    hospitalOrgId: ObjectIdString.optional(),
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type HistoryPageQueryInput = z.infer<typeof HistoryPageQuery>;

const InvoiceLineInput = z
  .object({
    drugId: ObjectIdString,
    drugName: z.string().trim().min(1).max(200),
    quantity: z.number().int().min(1).max(10_000_000),
    unitPriceFen: Fen,
    amountFen: Fen,
  })
  .strict();

/** What the orders module hands over on acceptance (contract: createInvoiceFromAcceptance). */
export const InvoiceFromAcceptance = z
  .object({
    acceptanceKey: z.string().trim().min(1).max(200),
    orderId: ObjectIdString,
    orderNo: z.string().trim().min(1).max(64),
    hospitalOrgId: ObjectIdString,
    distributorOrgId: ObjectIdString,
    lines: z.array(InvoiceLineInput).min(1).max(500),
    amountFen: PositiveFen,
    acceptedAt: z.date(),
  })
  .strict()
  .superRefine((v, ctx) => {
    v.lines.forEach((l, i) => {
      if (l.quantity * l.unitPriceFen !== l.amountFen) {
        ctx.addIssue({ code: 'custom', path: ['lines', i, 'amountFen'], message: 'validationIssues.lineAmount' });
      }
    });
    const total = v.lines.reduce((s, l) => s + l.amountFen, 0);
    if (total !== v.amountFen) ctx.addIssue({ code: 'custom', path: ['amountFen'], message: 'validationIssues.linesTotal' });
    if (Number.isNaN(v.acceptedAt.getTime())) ctx.addIssue({ code: 'custom', path: ['acceptedAt'], message: 'validationIssues.validTime' });
  });
export type InvoiceFromAcceptanceInput = z.input<typeof InvoiceFromAcceptance>;

export { Fen, PositiveFen };

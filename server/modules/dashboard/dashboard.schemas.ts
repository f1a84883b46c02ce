import { ObjectIdString, z } from '../../platform/schemas';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'validationIssues.date');

/** The dashboard's filters: a period of Asia/Shanghai business days, a hospital level, a drug, a distributor. */
export const DashboardQuery = z
  .object({
    from: Day.optional(),
    to: Day.optional(),
    hospitalLevel: z.coerce.number().int().min(1).max(3).optional(),
    drugId: ObjectIdString.optional(),
    distributorId: ObjectIdString.optional(),
  })
  .strict();
export type DashboardQueryInput = z.infer<typeof DashboardQuery>;

const Totals = z.object({ quantity: z.number(), referenceTotalFen: z.number(), paidTotalFen: z.number(), savedFen: z.number(), reductionBp: z.number().nullable() });

export const DashboardView = z.object({
  from: z.string(),
  to: z.string(),
  filters: z.object({ hospitalLevel: z.number().optional(), drugId: z.string().optional(), distributorId: z.string().optional() }),
  savings: z.object({
    total: Totals,
    rounds: z.array(Totals.extend({ roundId: z.string(), roundNo: z.string(), title: z.string(), lines: z.array(Totals.extend({ drugId: z.string(), drugName: z.string(), referenceFen: z.number(), unitPriceFen: z.number() })) })),
    tenders: z.array(Totals.extend({ tenderId: z.string(), tenderNo: z.string(), title: z.string() })),
    contracts: z.array(Totals.extend({ contractId: z.string(), contractNo: z.string(), tenderNo: z.string(), drugName: z.string(), hospitalName: z.string(), distributorName: z.string(), ceilingFen: z.number(), priceFen: z.number() })),
    priceHistory: z.array(z.object({ drugId: z.string(), drugName: z.string(), points: z.array(z.object({ roundId: z.string(), roundNo: z.string(), publishedAt: z.string(), referenceFen: z.number(), bestFen: z.number() })) })),
  }),
  payments: z.object({
    months: z.array(
      z.object({
        month: z.string(),
        paidInvoices: z.number(),
        medianDays: z.number().nullable(),
        p90Days: z.number().nullable(),
        invoicesDue: z.number(),
        paidOnDueDate: z.number(),
        paidOnDueDateBp: z.number().nullable(),
        advancedFen: z.number(),
        advances: z.number(),
        outstandingFen: z.number(),
      }),
    ),
  }),
  supply: z.object({
    months: z.array(z.object({ month: z.string(), deliveriesDue: z.number(), deliveredOnTime: z.number(), onTimeBp: z.number().nullable() })),
    shortage: z.object({ drugs: z.number(), covered: z.number(), coveredBp: z.number().nullable(), uncovered: z.array(z.object({ drugId: z.string(), drugName: z.string() })) }),
    vbp: z.array(z.object({ tenderId: z.string(), tenderNo: z.string(), drugId: z.string(), drugName: z.string(), contracts: z.number(), agreedQty: z.number(), purchasedQty: z.number(), completionBp: z.number().nullable() })),
  }),
  credit: z.object({
    grades: z.array(z.object({ grade: z.string(), distributors: z.number() })),
    breaches: z.array(z.object({ month: z.string(), byType: z.record(z.string(), z.number()), total: z.number() })),
    breachTypes: z.array(z.object({ code: z.string(), zh: z.string(), en: z.string(), count: z.number() })),
  }),
});
export type DashboardData = z.infer<typeof DashboardView>;

import { z } from '../../platform/schemas';

const seconds = (max: number) => z.number().int().min(1).max(max);
const HOUR = 3600;
const DAY = 86_400;

/**
 * Platform-wide defaults (every number is a configurable default). Per-round and per-tender
 * settings start from these. Durations are in seconds or days, as the name says.
 */
export const PlatformSettings = z
  .object({
    orders: z
      .object({
        confirmWithinSec: seconds(30 * DAY).default(24 * HOUR),
        deliverUrgentWithinSec: seconds(30 * DAY).default(24 * HOUR),
        deliverRegularWithinSec: seconds(30 * DAY).default(72 * HOUR),
        notDeliveredAfterSec: seconds(90 * DAY).default(7 * DAY),
      })
      .strict()
      .default({ confirmWithinSec: 24 * HOUR, deliverUrgentWithinSec: 24 * HOUR, deliverRegularWithinSec: 72 * HOUR, notDeliveredAfterSec: 7 * DAY }),
    finance: z
      .object({ paymentTermDays: z.number().int().min(1).max(365).default(30) })
      .strict()
      .default({ paymentTermDays: 30 }),
    credit: z
      .object({
        appealDays: z.number().int().min(1).max(90).default(15),
        windowMonths: z.number().int().min(1).max(60).default(12),
        bonusCap: z.number().int().min(0).max(50).default(10),
        repairQuietDays: z.number().int().min(0).max(730).default(90),
      })
      .strict()
      .default({ appealDays: 15, windowMonths: 12, bonusCap: 10, repairQuietDays: 90 }),
    quotation: z
      .object({
        minDecrementBp: z.number().int().min(0).max(5000).default(50),
        antiSnipingWindowSec: seconds(DAY).default(120),
        antiSnipingExtendSec: seconds(DAY).default(120),
        antiSnipingMaxExtensions: z.number().int().min(0).max(100).default(10),
        listingValidityDays: z.number().int().min(1).max(3650).default(365),
        clearlyBelowBp: z.number().int().min(1).max(10000).default(2000),
      })
      .strict()
      .default({ minDecrementBp: 50, antiSnipingWindowSec: 120, antiSnipingExtendSec: 120, antiSnipingMaxExtensions: 10, listingValidityDays: 365, clearlyBelowBp: 2000 }),
  })
  .strict();

export type PlatformSettingsValue = z.infer<typeof PlatformSettings>;

/** A partial update: any subset of sections and keys. */
export const PlatformSettingsPatch = z
  .object({
    orders: PlatformSettings.shape.orders.unwrap().partial().strict().optional(),
    finance: PlatformSettings.shape.finance.unwrap().partial().strict().optional(),
    credit: PlatformSettings.shape.credit.unwrap().partial().strict().optional(),
    quotation: PlatformSettings.shape.quotation.unwrap().partial().strict().optional(),
  })
  .strict()
  .openapi('PlatformSettingsPatch');
export type PlatformSettingsPatchInput = z.infer<typeof PlatformSettingsPatch>;

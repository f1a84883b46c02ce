// Facts of the vbp module that other modules react to.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Id, Instant } from './common';

/** The operator declared that a VBP winner failed to supply a contract (a credit breach). */
export const SupplyFailureDeclared = defineEvent(
  'vbp.supply_failure',
  z
    .object({ contractId: Id, contractNo: z.string(), tenderId: Id, distributorOrgId: Id, hospitalOrgId: Id, drugId: Id, drugName: z.string(), remainingQty: z.number().int(), at: Instant, reason: z.string() })
    .strict(),
);

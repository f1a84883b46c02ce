// Facts of the catalogue module. Each is committed with the change it states.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Id } from './common';

/** A drug's fields or its reference prices changed: remembered copies of it are dropped everywhere. */
export const DrugChanged = defineEvent('catalogue.drug_changed', z.object({ drugId: Id, what: z.enum(['fields', 'reference_price']) }).strict());

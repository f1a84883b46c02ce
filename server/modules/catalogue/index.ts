/** Drug catalogue: drugs with validated codes, effective-dated reference prices, search, import and export. */
import { defineModule } from '../../platform/module';
import { backfillSearchKeys } from '../../platform/search';
import { Drug } from './catalogue.model';
import { seedDemoCatalogue } from './catalogue.demo';
import { cataloguePages } from './catalogue.pages';
import { drugEvictions } from './catalogue.price-cache';
import { catalogueRoutes } from './catalogue.routes';

export { Drug, ReferencePrice, FORM_CLASSES, DRUG_CATEGORIES, type FormClass, type DrugCategory } from './catalogue.model';
export { getDrug, getDrugs, currentReferencePriceFen, currentReferencePrices, drugChoice, drugLabel, getDrugView, listDrugs, type DrugInfo, type DrugView } from './catalogue.service';
export { pricedDrugs, type PricedDrug } from './catalogue.price-cache';
export { DEMO_DRUGS, demoDrugFields } from './catalogue.demo';
export { traceCodeMatchesPrefix } from './catalogue.codes';

export const catalogueModule = defineModule({
  name: 'catalogue',
  api: catalogueRoutes,
  pages: cataloguePages,
  subscribers: drugEvictions,
  demo: seedDemoCatalogue,
  migrate: async (logger) => {
    const drugs = await backfillSearchKeys(Drug, 'genericNameZh');
    if (drugs) logger.info({ drugs }, 'drug search keys backfilled');
  },
});

/** Drug catalogue: drugs with validated codes, effective-dated reference prices, search, import and export. */
import { addDemoSeedStep } from '../demo';
import { seedDemoCatalogue } from './catalogue.demo';

export { Drug, ReferencePrice, FORM_CLASSES, DRUG_CATEGORIES, type FormClass, type DrugCategory } from './catalogue.model';
export { getDrug, getDrugs, currentReferencePriceFen, currentReferencePrices, getDrugView, listDrugs, type DrugInfo, type DrugView } from './catalogue.service';
export { catalogueRoutes } from './catalogue.routes';
export { cataloguePages } from './catalogue.pages';
export { DEMO_DRUGS, demoDrugFields } from './catalogue.demo';

addDemoSeedStep('catalogue', seedDemoCatalogue);

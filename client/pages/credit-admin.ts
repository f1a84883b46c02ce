// Operator credit management: appeals, repairs, manual breaches, the catalogue and letter versions.
import { wireCreditForms } from './credit-forms';

wireCreditForms();

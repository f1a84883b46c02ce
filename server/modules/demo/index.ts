/** Demo data: a fictional city's operator, hospitals, distributors and banks with one user per role. */
export { DEMO_ORGS, DEMO_PASSWORD, demoLogins } from './demo.data';
export { addDemoSeedStep, seedDemoData } from './demo.seed';

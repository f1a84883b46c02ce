/** Demo data: a fictional city's operator, hospitals, distributors and banks with one user per role (demo mode only). */
export { DEMO_ORGS, DEMO_PASSWORD, demoLogins, type DemoOrg } from './demo.data';
export { seedDemoData } from './demo.seed';

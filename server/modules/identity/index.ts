/** Identity and tenancy: organisations, users, sessions, sign-in. */
export { Organisation, User } from './identity.model';
export type { OrganisationDoc, UserDoc } from './identity.model';
export { createOrganisation, createUser, getOrganisation, listOrganisations, login, organisationsByType, passwordCost, resolveSession, usersOf, usersWithRole } from './identity.service';
export { identityRoutes } from './identity.routes';
export { identityPages, setDemoLogins } from './identity.pages';

/** Identity and tenancy: organisations, users, sessions, sign-in. */
import { defineModule } from '../../platform/module';
import { seedDemoOrganisations } from './identity.demo';
import { identityPages } from './identity.pages';
import { identityRoutes } from './identity.routes';
import { sessionEvictions } from './identity.session-cache';

export { Organisation, User } from './identity.model';
export type { OrganisationDoc, UserDoc } from './identity.model';
export { createOrganisation, createUser, getOrganisation, listOrganisations, login, organisationsByType, passwordCost, rememberLanguage, resolveSession, usersOf, usersWithRole } from './identity.service';

export const identityModule = defineModule({ name: 'identity', api: identityRoutes, pages: identityPages, subscribers: sessionEvictions, demo: seedDemoOrganisations });

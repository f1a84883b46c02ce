/** Identity and tenancy: organisations, users, sessions, sign-in. */
import { defineModule } from '../../platform/module';
import { backfillSearchKeys } from '../../platform/search';
import { Organisation as OrganisationModel, User as UserModel } from './identity.model';
import { seedDemoOrganisations } from './identity.demo';
import { identityPages } from './identity.pages';
import { identityRoutes } from './identity.routes';
import { recipientEvictions } from './identity.recipients-cache';
import { sessionEvictions } from './identity.session-cache';

export { Organisation, User } from './identity.model';
export type { OrganisationDoc, UserDoc } from './identity.model';
export { organisationSummaries, type OrganisationSummary } from './identity.org-cache';
export { createOrganisation, createUser, getOrganisation, listOrganisations, login, organisationsByType, passwordCost, rememberLanguage, recipientsOf, resolveSession, searchOrganisations, usersOf, usersWithRole } from './identity.service';

export const identityModule = defineModule({
  name: 'identity',
  api: identityRoutes,
  pages: identityPages,
  subscribers: [...sessionEvictions, ...recipientEvictions],
  demo: seedDemoOrganisations,
  migrate: async (logger) => {
    const organisations = await backfillSearchKeys(OrganisationModel, 'name');
    if (organisations) logger.info({ organisations }, 'organisation search keys backfilled');
    const users = await backfillSearchKeys(UserModel, 'name');
    if (users) logger.info({ users }, 'user search keys backfilled');
  },
});

import { hashPassword } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { DEMO_ORGS, DEMO_PASSWORD } from '../demo';
import { nameSearchKeys } from '../../platform/search';
import { Organisation, User } from './identity.model';
import { passwordCost } from './identity.service';

/** The demo organisations and their users (idempotent: keyed by demo key and email). */
export async function seedDemoOrganisations(logger: Logger): Promise<void> {
  const hash = await hashPassword(DEMO_PASSWORD, passwordCost());
  for (const o of DEMO_ORGS) {
    const { users, key, ...fields } = o;
    await Organisation.updateOne({ demoKey: key }, { $setOnInsert: { ...fields, ...nameSearchKeys(fields.name), demoKey: key, active: true } }, { upsert: true });
    const org = await Organisation.findOne({ demoKey: key }, { _id: 1 }).lean<{ _id: unknown }>();
    for (const u of users) {
      await User.updateOne({ email: u.email }, { $setOnInsert: { ...u, ...nameSearchKeys(u.name), orgId: org!._id, passwordHash: hash, disabled: false } }, { upsert: true });
    }
  }
  logger.info({ organisations: DEMO_ORGS.length }, 'demo organisations and users ready');
}

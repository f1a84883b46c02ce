import { hashPassword } from '../../platform/auth';
import type { Logger } from '../../platform/logger';
import { Organisation, passwordCost, User } from '../identity';
import { DEMO_ORGS, DEMO_PASSWORD } from './demo.data';

/** Extra seeding steps contributed by feature modules (catalogue, commitments …), run in order. */
const steps: { name: string; run: (logger: Logger) => Promise<void> }[] = [];

export function addDemoSeedStep(name: string, run: (logger: Logger) => Promise<void>): void {
  if (!steps.some((s) => s.name === name)) steps.push({ name, run });
}

/** Loads the demo organisations and users once; running it again changes nothing. */
export async function seedDemoData(logger: Logger): Promise<void> {
  const hash = await hashPassword(DEMO_PASSWORD, passwordCost());
  for (const o of DEMO_ORGS) {
    const { users, key, ...fields } = o;
    await Organisation.updateOne({ demoKey: key }, { $setOnInsert: { ...fields, demoKey: key, active: true } }, { upsert: true });
    const org = await Organisation.findOne({ demoKey: key }, { _id: 1 }).lean<{ _id: unknown }>();
    for (const u of users) {
      await User.updateOne({ email: u.email }, { $setOnInsert: { ...u, orgId: org!._id, passwordHash: hash, disabled: false } }, { upsert: true });
    }
  }
  for (const step of steps) await step.run(logger);
  logger.info({ organisations: DEMO_ORGS.length }, 'demo data ready');
}

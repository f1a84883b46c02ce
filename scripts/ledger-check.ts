// `npm run ledger:check`: recomputes every finance ledger balance from the journal entries and
// compares it with the stored balance. Exits 0 when the ledger agrees, 1 when it does not, 2 when
// the database cannot be reached. Reads MONGODB_URI / MONGODB_DB like the app; without MONGODB_URI it
// uses the embedded engine of a running `npm start` (ENGINE_PORT), else opens ENGINE_DBPATH itself.
import path from 'node:path';
import mongoose from 'mongoose';
import { checkLedger } from '../server/modules/finance/finance.ledger';
import { loadConfig } from '../server/platform/config';
import { configureMongoose } from '../server/platform/mongo';
import { formatFen } from '../server/platform/money';

async function connect(): Promise<() => Promise<void>> {
  const config = loadConfig();
  configureMongoose();
  const options = { dbName: config.mongodbDb, serverSelectionTimeoutMS: 3000 };
  if (config.mongodbUri) {
    await mongoose.connect(config.mongodbUri, options);
    return () => mongoose.disconnect();
  }
  try {
    await mongoose.connect(`mongodb://127.0.0.1:${config.enginePort}/`, options);
    return () => mongoose.disconnect();
  } catch {
    await mongoose.disconnect().catch(() => undefined);
    const { spawnEngine } = await import('../server/engine/spawn');
    const engine = await spawnEngine({ port: 0, dbpath: path.resolve(config.engineDbpath) });
    await mongoose.connect(engine.uri, options);
    return async () => {
      await mongoose.disconnect();
      await engine.stop();
    };
  }
}

async function main(): Promise<number> {
  let close: () => Promise<void>;
  try {
    close = await connect();
  } catch (err) {
    console.error(`ledger:check could not reach the database: ${(err as Error).message}`);
    return 2;
  }
  try {
    const result = await checkLedger();
    console.log(`ledger: ${result.entries} entries, ${result.accounts} accounts, sum of balances ${formatFen(result.totalFen)}`);
    for (const m of result.mismatches) console.log(`  MISMATCH ${m.accountKey}: stored ${formatFen(m.storedFen)}, from entries ${formatFen(m.computedFen)}`);
    for (const e of result.unbalancedEntries) console.log(`  UNBALANCED ${e.idempotencyKey}: postings sum to ${formatFen(e.sumFen)}`);
    console.log(result.ok ? 'ledger OK: every balance equals the sum of its entries' : 'ledger NOT consistent');
    return result.ok ? 0 : 1;
  } finally {
    await close();
  }
}

process.exitCode = await main();

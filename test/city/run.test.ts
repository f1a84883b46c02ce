// A tiny city for one simulated month, in its own process (the city starts its own engine, Redis
// queues and app), on a fixed simulated start: the report's checks must all pass.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

describe('npm run city (a tiny city for a month)', function () {
  this.timeout(600_000);

  it('trades a month through the API and passes the ledger and exactly-once checks', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'city-test-'));
    const json = path.join(dir, 'report.json');
    try {
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/city/run.ts', '--months', '1', '--scale', '0.01', '--seed', '7', '--start', '2027-03-01', '--run-off', '31', '--quiet', '--no-readme', '--json', json], {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, TEST_NOW: '' },
        });
        let err = '';
        child.stderr.on('data', (d) => (err += String(d)));
        child.on('error', reject);
        child.on('exit', (c) => (c === null ? reject(new Error(err)) : resolve(c)));
      });
      const report = JSON.parse(readFileSync(json, 'utf8'));
      const failed = (report.checks as { name: string; ok: boolean; detail: string }[]).filter((c) => !c.ok);
      expect(failed, JSON.stringify(failed)).to.deep.equal([]);
      expect(code).to.equal(0);
      const names = report.checks.map((c: { name: string }) => c.name);
      expect(names).to.include.members(['ledger: every balance equals its journal, every entry sums to zero', 'no invoice paid twice', 'no breach twice for the same fact', 'every accepted order invoiced', 'every round closed once and published']);
      const c = report.counters;
      expect(c.ordersPlaced).to.be.greaterThan(20);
      expect(c.accepted).to.be.greaterThan(10);
      expect(c.quotes).to.be.greaterThan(0);
      expect(report.figures.roundsPublished).to.be.at.least(1);
      expect(report.figures.settledFromAccount + report.figures.settledWithAdvance + report.figures.paidEarly).to.be.greaterThan(0);
      expect(report.figures.invoicesDue).to.be.greaterThan(0);
      expect(report.months).to.have.length(1);
      expect(report.months[0].probe).to.be.an('array').that.is.not.empty;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { jwtVerify } from 'jose';
import { signSessionToken } from '../../server/platform/auth';
import { loadConfig } from '../../server/platform/config';
import { testClock } from '../support/global';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

describe('the token signing secret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gpo-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('without JWT_SECRET outside production, is random, kept in the data directory with mode 0600, and reused on the next start', async () => {
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const file = path.join(dir, 'jwt-secret');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(first.jwtSecret).to.match(/^[a-f0-9]{64}$/);
    expect(readFileSync(file, 'utf8').trim()).to.equal(first.jwtSecret);
    const again = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    expect(again.jwtSecret).to.equal(first.jwtSecret);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'gpo-secret-'));
    try {
      expect(loadConfig({ DATA_DIR: elsewhere }).jwtSecret).to.not.equal(first.jwtSecret);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    // The secret is nowhere in the repository's source.
    const source = readFileSync(path.join(ROOT, 'server/platform/config.ts'), 'utf8');
    expect(source).to.not.contain(first.jwtSecret);
    expect(source).to.not.match(/dev-only-secret/);
    // A token signed under it verifies only with it.
    const token = await signSessionToken(first, { userId: 'u', sessionId: 's', issuedAt: testClock.now(), expiresAt: new Date(testClock.now().getTime() + 60_000) });
    const key = (s: string) => new TextEncoder().encode(s);
    await jwtVerify(token, key(again.jwtSecret), { currentDate: testClock.now() });
    let refused = false;
    await jwtVerify(token, key('dev-only-secret-change-me-0123456789abcdef'), { currentDate: testClock.now() }).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });

  it('tightens a secret file restored with loose permissions and refuses one too short', () => {
    const file = path.join(dir, 'jwt-secret');
    writeFileSync(file, `${'a'.repeat(64)}\n`);
    chmodSync(file, 0o644);
    expect(loadConfig({ DATA_DIR: dir }).jwtSecret).to.equal('a'.repeat(64));
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    writeFileSync(file, 'short\n');
    expect(() => loadConfig({ DATA_DIR: dir })).to.throw(/jwt-secret/);
  });

  it('in production without JWT_SECRET the server refuses to start and writes no secret', function () {
    this.timeout(30_000);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', DATA_DIR: dir, PORT: '0' };
    const run = spawnSync(process.execPath, ['--import', tsx, path.join(ROOT, 'server/index.ts')], { env, encoding: 'utf8', timeout: 25_000 });
    expect(run.status, run.stdout + run.stderr).to.equal(2);
    expect(run.stderr).to.match(/JWT_SECRET: required in production/);
    expect(() => statSync(path.join(dir, 'jwt-secret'))).to.throw();
  });
});

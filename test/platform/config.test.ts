import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../server/platform/config';

describe('config', () => {
  it('parses defaults into a frozen, typed object', () => {
    // NOTE: without JWT_SECRET the config makes a secret in DATA_DIR; keep it out of the repository's data/.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gpo-config-'));
    const c = loadConfig({ DATA_DIR: dataDir });
    rmSync(dataDir, { recursive: true, force: true });
    expect(c.port).to.equal(3000);
    expect(c.mongodbDb).to.equal('gpo');
    expect(c.demoMode).to.equal(true);
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('fails fast listing every invalid setting', () => {
    expect(() => loadConfig({ PORT: 'eighty', MONGODB_URI: 'postgres://x', LOG_LEVEL: 'loud' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/PORT/)
      .and.matches(/MONGODB_URI/)
      .and.matches(/LOG_LEVEL/);
  });

  it('requires a strong JWT secret in production and turns demo mode off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).to.throw(/at least 32/);
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(c.demoMode).to.equal(false);
  });

  it('takes ROUND_LEASE_MS between 200 ms and a minute, 3 s by default, and refuses anything else by name', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gpo-config-'));
    try {
      expect(loadConfig({ DATA_DIR: dataDir }).roundLeaseMs).to.equal(3000);
      expect(loadConfig({ DATA_DIR: dataDir, ROUND_LEASE_MS: '1500' }).roundLeaseMs).to.equal(1500);
      for (const bad of ['0', '199', '60001', '2.5', 'soon', '-3000']) {
        expect(() => loadConfig({ DATA_DIR: dataDir, ROUND_LEASE_MS: bad }), bad).to.throw(ConfigError, /ROUND_LEASE_MS/);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

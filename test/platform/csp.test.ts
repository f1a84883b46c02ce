import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

function directives(header: string): Map<string, string[]> {
  return new Map(header.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name!, values]));
}

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p, ext) : ext.test(f) ? [p] : [];
  });
}

describe('Content-Security-Policy: no inline script runs without the response’s nonce', () => {
  it("sends script-src without 'unsafe-inline', a fresh nonce per response carried by the page's own scripts, and script-src-attr 'none'", async () => {
    const u = await buildUser('pharmacist');
    const nonces: string[] = [];
    for (const [path, headers] of [['/login', {}], ['/orders', { Authorization: `Bearer ${u.token}` }], ['/orders', { Authorization: `Bearer ${u.token}` }]] as const) {
      const res = await request(testApp().url).get(path).set(headers).set('Accept', 'text/html');
      expect(res.status, `${path}: ${res.status}`).to.equal(200);
      const csp = directives(String(res.headers['content-security-policy']));
      const scriptSrc = csp.get('script-src')!;
      expect(scriptSrc).to.not.include("'unsafe-inline'");
      expect(scriptSrc).to.not.include("'unsafe-eval'");
      expect(csp.get('script-src-attr')).to.deep.equal(["'none'"]);
      const nonce = scriptSrc.find((s) => s.startsWith("'nonce-"))!.slice(7, -1);
      expect(nonce).to.match(/^[a-f0-9]{32}$/);
      nonces.push(nonce);
      const tags = res.text.match(/<script\b[^>]*>/g) ?? [];
      expect(tags.length).to.be.greaterThan(0);
      for (const tag of tags) expect(tag, tag).to.contain(`nonce="${nonce}"`);
    }
    expect(new Set(nonces).size).to.equal(nonces.length);
  });

  it('no template or client file has an inline event handler, a javascript: URL or an executable inline script', () => {
    const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..');
    const offenders: string[] = [];
    for (const f of [...files(path.join(root, 'templates'), /\.hbs$/), ...files(path.join(root, 'client'), /\.(ts|html)$/)]) {
      const text = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '');
      if (/<[a-z][^>]*\son[a-z]+\s*=/i.test(text)) offenders.push(`${f}: inline event handler`);
      if (/javascript:/i.test(text)) offenders.push(`${f}: javascript: URL`);
      for (const tag of text.match(/<script\b[^>]*>/g) ?? []) if (!/\bsrc=|type="application\/json"/.test(tag)) offenders.push(`${f}: inline script ${tag}`);
    }
    expect(offenders, offenders.join('\n')).to.deep.equal([]);
  });
});

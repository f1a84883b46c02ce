import { expect } from 'chai';
import { Types } from 'mongoose';
import request from 'supertest';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { openApiDocument } from '../../server/platform/http';
import { z } from '../../server/platform/schemas';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

interface Found {
  where: string;
  name: string;
  pattern: string;
}

function patterns(node: unknown, where: string, name: string, out: Found[]): Found[] {
  if (Array.isArray(node)) node.forEach((n, i) => patterns(n, `${where}/${i}`, name, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const own = typeof o.name === 'string' ? o.name : name;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'pattern' && typeof v === 'string') out.push({ where, name: own, pattern: v });
      else patterns(v, `${where}/${k}`, k === 'properties' ? own : k === 'schema' ? own : k, out);
    }
  }
  return out;
}

describe('OpenAPI document: patterns', () => {
  it('every pattern compiles as a JS RegExp without flags, and every id pattern matches a real id', async () => {
    const doc = (await request(testApp().url).get('/api/v1/openapi.json').expect(200)).body as Record<string, unknown>;
    const found = patterns(doc, '#', '', []);
    expect(found.length).to.be.greaterThan(50);
    const realId = String(new Types.ObjectId());
    const u = await buildUser('operator');
    const failures: string[] = [];
    let idPatterns = 0;
    for (const f of found) {
      if (/\/[a-z]+$/.test(f.pattern)) failures.push(`${f.where}: trailing flags in ${f.pattern}`);
      let re: RegExp;
      try {
        re = new RegExp(f.pattern);
      } catch (err) {
        failures.push(`${f.where}: ${(err as Error).message}`);
        continue;
      }
      if (/(^id$|Id$|Ids?$)/.test(f.name) || f.pattern.includes('{24}')) {
        idPatterns += 1;
        if (!re.test(realId)) failures.push(`${f.where} (${f.name}): ${f.pattern} does not match the real id ${realId}`);
        if (!re.test(realId.toUpperCase()) && f.pattern.includes('{24}')) failures.push(`${f.where}: ${f.pattern} refuses an upper-case id the server accepts`);
      }
    }
    expect(idPatterns).to.be.greaterThan(20);
    expect(failures, failures.slice(0, 20).join('\n')).to.deep.equal([]);
    // The server accepts what the document says: an upper-case id is a valid id.
    const me = await u.api().get(`/api/v1/orders/${realId.toUpperCase()}`);
    expect(me.status).to.equal(404);
  });

  it('refuses to generate a document from a schema regex with flags', () => {
    const registry = new OpenAPIRegistry();
    registry.register('Flagged', z.object({ code: z.string().regex(/^[a-z]{3}$/i) }));
    expect(() => openApiDocument(registry, 'http://localhost')).to.throw(/flagless/);
  });
});

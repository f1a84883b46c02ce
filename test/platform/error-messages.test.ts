import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { rememberLanguage } from '../../server/modules/identity';
import { catalogues, lookup } from '../../server/platform/i18n';
import { buildTradingDistributor } from '../support/credit-factories';
import { emitAck, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { buildOpenRound } from '../support/quotation-factories';

const SERVER = path.resolve('server');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'engine' ? [] : sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

const ERROR_CLASSES = 'ValidationError|UnauthenticatedError|ForbiddenError|NotFoundError|ConflictError|RuleViolationError|RateLimitedError|UnavailableError';

function hasMessageInBoth(key: string): boolean {
  return typeof lookup(catalogues.zh, key) === 'string' && typeof lookup(catalogues.en, key) === 'string';
}

function connect(user: TestUser, acceptLanguage?: string): Promise<Socket> {
  const socket = ioClient(testApp().url, {
    transports: ['websocket'],
    auth: { token: user.token },
    extraHeaders: acceptLanguage ? { 'accept-language': acceptLanguage } : undefined,
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('error messages in the reader\'s language', () => {
  it('builds every application error and rule refusal from a message key that both catalogues have', () => {
    const offenders: string[] = [];
    const keys = new Set<string>();
    for (const file of sourceFiles(SERVER)) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(process.cwd(), file);
      // An error or a refusal ({ code, message }) given a sentence instead of a key.
      const raw = new RegExp(`new (?:${ERROR_CLASSES})\\([^)]*?message:\\s*['"\`]`, 'gs');
      for (const m of text.matchAll(raw)) offenders.push(`${rel}: ${m[0].slice(0, 80)}`);
      for (const m of text.matchAll(/code:\s*[^,{}]+,\s*message:\s*['"`]/g)) offenders.push(`${rel}: ${m[0].slice(0, 80)}`);
      for (const m of text.matchAll(/\bmsg\(\s*'((?:errorCodes)\.[A-Za-z0-9_.]+)'/g)) keys.add(m[1]!);
      for (const m of text.matchAll(/\bmsg\(\s*[^'`]*\?\s*'(errorCodes\.[A-Za-z0-9_.]+)'\s*:\s*'(errorCodes\.[A-Za-z0-9_.]+)'/g)) keys.add(m[1]!).add(m[2]!);
    }
    expect(offenders, offenders.join('\n')).to.deep.equal([]);
    expect(keys.size).to.be.greaterThan(200);
    const missing = [...keys].filter((k) => !hasMessageInBoth(k));
    expect(missing, `keys missing from zh or en: ${missing.join(', ')}`).to.deep.equal([]);
    // The class defaults, the keys built from a code and the trading actions.
    const built = ['VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RULE_VIOLATION', 'RATE_LIMITED', 'UNAVAILABLE', 'HOSPITAL_NOT_FOUND', 'BANK_NOT_FOUND', 'DISTRIBUTOR_NOT_FOUND', 'ORG_NOT_HOSPITAL', 'ORG_NOT_BANK', 'ORG_NOT_DISTRIBUTOR', 'INVALID_NHSA_DRUG_CODE', 'INVALID_DRUG_STANDARD_CODE', 'ENTERPRISE_CODE_MISMATCH', 'INVALID_GTIN', 'INVALID_TRACE_PREFIX', 'actions.quote', 'actions.bid', 'actions.revise_quote', 'actions.be_chosen', 'actions.confirm_order'];
    expect(built.filter((k) => !hasMessageInBoth(`errorCodes.${k}`))).to.deep.equal([]);
  });

  it('has the same placeholders in the Chinese and English text of every error message', () => {
    const zh = lookup(catalogues.zh, 'errorCodes') as Record<string, unknown>;
    const en = lookup(catalogues.en, 'errorCodes') as Record<string, unknown>;
    const names = (s: unknown) => (typeof s === 'string' ? (s.match(/\{\w+\}/g) ?? []).sort().join() : '');
    expect(Object.keys(zh).sort()).to.deep.equal(Object.keys(en).sort());
    const differ = Object.keys(zh).filter((k) => names(zh[k]) !== names(en[k]));
    expect(differ).to.deep.equal([]);
    const chineseInEnglish = Object.entries(en).filter(([, v]) => typeof v === 'string' && /[\u4e00-\u9fff]/.test(v) && !/本位码|短缺|口服固体/.test(v));
    expect(chineseInEnglish.map(([k]) => k)).to.deep.equal([]);
  });

  it('refuses a quote above the reference in Chinese for a zh user and in English for Accept-Language: en, over HTTP and the socket', async () => {
    const round = await buildOpenRound({ referenceFen: 289_000 });
    const { lineId } = round.lines[0]!;
    const zhUser = await buildTradingDistributor();
    await rememberLanguage(zhUser.id, 'zh');
    const enClient = await buildTradingDistributor();

    const zhHttp = await zhUser.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 289_001 }).set('Accept-Language', 'en');
    const enHttp = await enClient.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 289_001 }).set('Accept-Language', 'en-GB,en;q=0.9');
    const defaultHttp = await enClient.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 289_001 });
    for (const res of [zhHttp, enHttp, defaultHttp]) {
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('ABOVE_REFERENCE');
      expect(res.body.error.details[0]).to.include({ maxAllowedFen: 289_000, priceFen: 289_001 });
    }
    expect(zhHttp.body.error.message).to.equal('报价不能高于参考价（¥2,890.00）。');
    expect(enHttp.body.error.message).to.equal('A quote may not exceed the reference price (¥2,890.00).');
    expect(defaultHttp.body.error.message).to.equal(zhHttp.body.error.message);

    const zhSocket = await connect(zhUser);
    const enSocket = await connect(enClient, 'en');
    try {
      const zhAck = await emitAck(zhSocket, 'quote:submit', { roundId: round.id, lineId, priceFen: 289_001, clientKey: `zh-${round.id}` });
      const enAck = await emitAck(enSocket, 'quote:submit', { roundId: round.id, lineId, priceFen: 289_001, clientKey: `en-${round.id}` });
      expect(zhAck.error).to.deep.include({ code: 'ABOVE_REFERENCE', message: zhHttp.body.error.message });
      expect(enAck.error).to.deep.include({ code: 'ABOVE_REFERENCE', message: enHttp.body.error.message });
      expect(zhAck.error!.details).to.deep.equal(enAck.error!.details);
    } finally {
      zhSocket.disconnect();
      enSocket.disconnect();
    }
  });

  it('writes every field of a refused request in the reader\'s language, from validationIssues keys that both catalogues have', async () => {
    const round = await buildOpenRound({ referenceFen: 289_000 });
    const zhUser = await buildTradingDistributor();
    await rememberLanguage(zhUser.id, 'zh');
    const enClient = await buildTradingDistributor();
    const body = { lineId: 'not-an-id', priceFen: 1.5, extra: true };
    const zh = await zhUser.api().post(`/api/v1/rounds/${round.id}/quotes`, body);
    const en = await enClient.api().post(`/api/v1/rounds/${round.id}/quotes`, body).set('Accept-Language', 'en');
    for (const res of [zh, en]) {
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details.length).to.be.greaterThan(0);
    }
    const zhTexts = zh.body.error.details.map((d: { message: string }) => d.message);
    const enTexts = en.body.error.details.map((d: { message: string }) => d.message);
    for (const text of zhTexts) {
      expect(text).to.match(/[\u4e00-\u9fff]/);
      expect(text.replace('extra', '')).not.to.match(/validationIssues|[A-Za-z]{4,}/);
    }
    for (const text of enTexts) {
      expect(text).not.to.match(/[\u4e00-\u9fff]|validationIssues/);
      expect(text).to.match(/[a-z]/);
    }
    expect(zh.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(en.body.error.details.map((d: { path: string }) => d.path).sort());

    // Both catalogues have the same validation keys and placeholders, and no schema writes its own English sentence.
    const flat = (o: unknown, prefix = ''): Record<string, string> =>
      Object.entries(o as Record<string, unknown>).reduce<Record<string, string>>((acc, [k, v]) => (typeof v === 'string' ? { ...acc, [prefix + k]: v } : { ...acc, ...flat(v, `${prefix}${k}.`) }), {});
    const zhKeys = flat(lookup(catalogues.zh, 'validationIssues'));
    const enKeys = flat(lookup(catalogues.en, 'validationIssues'));
    expect(Object.keys(zhKeys).sort()).to.deep.equal(Object.keys(enKeys).sort());
    const names = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort().join();
    expect(Object.keys(zhKeys).filter((k) => names(zhKeys[k]!) !== names(enKeys[k]!))).to.deep.equal([]);
    const sentence = /\.(?:min|max|length|regex|refine|int|positive|nonnegative|email|datetime|url|startsWith|endsWith|gte|lte|gt|lt|multipleOf|nonempty)\((?:[^()]|\([^()]*\))*?,\s*['"`](?!validationIssues\.)/g;
    const used = new Set<string>();
    const offenders: string[] = [];
    for (const file of sourceFiles(SERVER)) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(process.cwd(), file);
      // The environment settings are read by whoever starts the server, in English.
      if (!rel.endsWith('config.ts')) for (const m of text.matchAll(sentence)) offenders.push(`${rel}: ${m[0].slice(0, 80)}`);
      for (const m of text.matchAll(/'validationIssues\.([A-Za-z]+)'/g)) used.add(m[1]!);
    }
    expect(offenders, offenders.join('\n')).to.deep.equal([]);
    expect([...used].filter((k) => zhKeys[k] === undefined || enKeys[k] === undefined)).to.deep.equal([]);
  });

  it('answers an unknown API route in English for Accept-Language: en and in Chinese otherwise', async () => {
    const res = await request(testApp().url).get('/api/v1/no-such-route').set('Accept-Language', 'en');
    expect(res.status).to.equal(404);
    expect(res.body.error.message).to.equal('No API route GET /api/v1/no-such-route.');
    const zh = await request(testApp().url).get('/api/v1/no-such-route');
    expect(zh.body.error.message).to.equal('没有 API 路由 GET /api/v1/no-such-route。');
  });
});

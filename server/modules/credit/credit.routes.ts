import { assertRole } from '../../platform/auth';
import { AppError, errorText } from '../../platform/errors';
import type { ApiRouter } from '../../platform/http';
import { isLang } from '../../platform/i18n';
import { IdParams, ObjectIdString, z } from '../../platform/schemas';
import { parse } from '../../platform/validate';
import { awardBonus, decideAppeal, decideRepair, listAppeals, listRepairs, submitAppeal, submitRepair } from './credit.appeals';
import { createBreachType, getBreach, listBreaches, listBreachTypes, recordManualBreach, toBreachView, updateBreachType } from './credit.breaches';
import {
  assertMayTrade,
  commitmentPreview,
  commitmentStatus,
  getSignature,
  listCommitmentVersions,
  listSignatures,
  publishCommitmentVersion,
  signCommitment,
  withdrawCommitmentVersion,
} from './credit.commitment';
import { fileBytes, readFile, uploadFile } from './credit.files';
import { signedLetterPdf } from './credit.pdf';
import { arrearsRanking, paymentRecord, previousMonth } from './credit.payments';
import { creditRulesView, listSanctions, publicCreditList, scoreTrend, standingView, updateCreditRules } from './credit.overview';
import {
  AppealBody,
  AppealDecisionBody,
  AppealListQuery,
  AppealView,
  BonusBody,
  BreachListQuery,
  BreachTypeView,
  BreachView,
  CodeParams,
  CreateBreachTypeBody,
  CreditRulesPatch,
  FileView,
  ManualBreachBody,
  RepairBody,
  RepairDecisionBody,
  RepairListQuery,
  RepairView,
  SanctionView,
  StandingView,
  UpdateBreachTypeBody,
  CommitmentPreview,
  CommitmentPreviewQuery,
  CommitmentSignatureView,
  CommitmentVersionView,
  GateStatus,
  PublishCommitmentBody,
  SignatureListQuery,
  SignCommitmentBody,
} from './credit.schemas';

export function creditRoutes(api: ApiRouter): void {
  commitmentRoutes(api);
  creditCaseRoutes(api);
}

function commitmentRoutes(api: ApiRouter): void {
  api.route(
    { method: 'get', path: '/credit/commitment-versions', summary: 'Commitment letter versions, newest first', tags: ['credit'], auth: 'any', response: z.object({ data: z.array(CommitmentVersionView) }) },
    async () => ({ data: await listCommitmentVersions() }),
  );
  api.route(
    { method: 'post', path: '/credit/commitment-versions', summary: 'Publish a new commitment letter version with an effective date (operator)', tags: ['credit'], auth: ['operator'], body: PublishCommitmentBody, response: CommitmentVersionView, status: 201 },
    ({ actor, body }) => publishCommitmentVersion(actor, body),
  );
  api.route(
    { method: 'post', path: '/credit/commitment-versions/:id/withdraw', summary: 'Withdraw a version before it takes effect (operator)', tags: ['credit'], auth: ['operator'], params: IdParams, response: CommitmentVersionView },
    ({ actor, params }) => withdrawCommitmentVersion(actor, params.id),
  );
  api.route(
    { method: 'get', path: '/credit/commitment', summary: 'The letter to sign (the version in force unless one is named): exact text, its SHA-256 and any signature of my organisation', tags: ['credit'], auth: ['distributor'], query: CommitmentPreviewQuery, response: CommitmentPreview },
    ({ actor, query }) => commitmentPreview(actor, query.versionId),
  );
  api.route(
    { method: 'post', path: '/credit/commitment/sign', summary: 'Sign a commitment version for my organisation (send the SHA-256 of the text shown)', tags: ['credit'], auth: ['distributor'], body: SignCommitmentBody, response: z.object({ signature: CommitmentSignatureView, created: z.boolean() }), status: 201 },
    ({ actor, body, req }) => signCommitment(actor, body, { ip: req.ip ?? 'unknown', userAgent: req.get('user-agent') }),
  );
  api.route(
    { method: 'get', path: '/credit/commitment-signatures', summary: 'Signatures (my organisation; the operator sees all)', tags: ['credit'], auth: ['distributor', 'operator'], query: SignatureListQuery, response: z.object({ data: z.array(CommitmentSignatureView) }) },
    async ({ actor, query }) => ({ data: await listSignatures(actor, query) }),
  );
  api.route(
    { method: 'get', path: '/credit/commitment-signatures/:id', summary: 'One signature with the exact signed text', tags: ['credit'], auth: ['distributor', 'operator'], params: IdParams, response: CommitmentSignatureView.extend({ text: z.string(), versionTitle: z.string() }) },
    ({ actor, params }) => getSignature(actor, params.id),
  );
  api.router.get('/credit/commitment-signatures/:id/pdf', async (req, res) => {
    assertRole(req.actor, ['distributor', 'operator']);
    const { id } = parse(IdParams, req.params, 'path');
    const signature = await getSignature(req.actor, id);
    const pdf = await signedLetterPdf(signature, isLang(res.locals.lang) ? res.locals.lang : 'zh');
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `inline; filename="commitment-v${signature.version}-${id}.pdf"`);
    res.send(pdf);
  });
  api.route(
    { method: 'get', path: '/credit/gate', summary: 'Whether my organisation may trade now (commitment signed, not suspended)', tags: ['credit'], auth: ['distributor'], response: GateStatus },
    async ({ actor }) => {
      const status = await commitmentStatus(actor.orgId);
      let refusal: { code: string; message: string } | null = null;
      try {
        await assertMayTrade(actor.orgId, 'quote');
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refusal = { code: err.code, message: errorText(err) };
      }
      return {
        orgId: actor.orgId,
        mayTrade: refusal === null,
        refusal,
        versionInForce: status.version ? { id: String(status.version._id), version: status.version.version, effectiveAt: status.version.effectiveAt.toISOString() } : null,
        signed: status.signed,
      };
    },
  );
}

function creditCaseRoutes(api: ApiRouter): void {
  api.route(
    { method: 'get', path: '/credit/breach-types', summary: 'The breach catalogue', tags: ['credit'], auth: 'any', response: z.object({ data: z.array(BreachTypeView) }) },
    async () => ({ data: await listBreachTypes() }),
  );
  api.route(
    { method: 'post', path: '/credit/breach-types', summary: 'Add a manual breach type (operator)', tags: ['credit'], auth: ['operator'], body: CreateBreachTypeBody, response: BreachTypeView, status: 201 },
    ({ actor, body }) => createBreachType(actor, body),
  );
  api.route(
    { method: 'patch', path: '/credit/breach-types/:code', summary: 'Change a breach type: description, severity, points, on/off (operator)', tags: ['credit'], auth: ['operator'], params: CodeParams, body: UpdateBreachTypeBody, response: BreachTypeView },
    ({ actor, params, body }) => updateBreachType(actor, params.code, body),
  );
  api.route(
    { method: 'post', path: '/credit/files', summary: 'Upload one evidence file (multipart: file, purpose = breach_evidence | appeal | repair); PDF, PNG, JPEG or text', tags: ['credit'], auth: ['operator', 'distributor'], response: FileView, status: 201 },
    ({ actor, req, res }) => uploadFile(actor, req, res),
  );
  api.router.get('/credit/files/:id', async (req, res) => {
    assertRole(req.actor, ['operator', 'distributor']);
    const { id } = parse(IdParams, req.params, 'path');
    const f = await readFile(req.actor, id);
    res.setHeader('Content-Type', f.contentType);
    res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.send(fileBytes(f.data));
  });
  api.route(
    { method: 'get', path: '/credit/breaches', summary: 'Breaches (my organisation; the operator sees all)', tags: ['credit'], auth: ['operator', 'distributor'], query: BreachListQuery, response: z.object({ data: z.array(BreachView) }) },
    async ({ actor, query }) => ({ data: await listBreaches(actor, query) }),
  );
  api.route(
    { method: 'post', path: '/credit/breaches', summary: 'Record a manual breach with evidence files (operator)', tags: ['credit'], auth: ['operator'], body: ManualBreachBody, response: z.object({ breach: BreachView, created: z.boolean() }), status: 201, idempotent: true },
    ({ actor, body, req }) => recordManualBreach(actor, body, req.get('idempotency-key') ?? undefined),
  );
  api.route(
    { method: 'get', path: '/credit/breaches/:id', summary: 'One breach', tags: ['credit'], auth: ['operator', 'distributor'], params: IdParams, response: BreachView },
    async ({ actor, params }) => toBreachView(await getBreach(actor, params.id)),
  );
  api.route(
    { method: 'post', path: '/credit/breaches/:id/appeal', summary: 'Appeal a breach within the appeal period (distributor)', tags: ['credit'], auth: ['distributor'], params: IdParams, body: AppealBody, response: AppealView, status: 201 },
    ({ actor, params, body }) => submitAppeal(actor, params.id, body),
  );
  api.route(
    { method: 'get', path: '/credit/appeals', summary: 'Appeals (mine; the operator sees all)', tags: ['credit'], auth: ['operator', 'distributor'], query: AppealListQuery, response: z.object({ data: z.array(AppealView) }) },
    async ({ actor, query }) => ({ data: await listAppeals(actor, query) }),
  );
  api.route(
    { method: 'post', path: '/credit/appeals/:id/decision', summary: 'Uphold or void the appealed breach, with reasons (operator)', tags: ['credit'], auth: ['operator'], params: IdParams, body: AppealDecisionBody, response: AppealView },
    ({ actor, params, body }) => decideAppeal(actor, params.id, body),
  );
  api.route(
    { method: 'post', path: '/credit/repairs', summary: 'Apply for credit repair with a rectification report and apology (distributor)', tags: ['credit'], auth: ['distributor'], body: RepairBody, response: RepairView, status: 201 },
    ({ actor, body }) => submitRepair(actor, body),
  );
  api.route(
    { method: 'get', path: '/credit/repairs', summary: 'Repair applications (mine; the operator sees all)', tags: ['credit'], auth: ['operator', 'distributor'], query: RepairListQuery, response: z.object({ data: z.array(RepairView) }) },
    async ({ actor, query }) => ({ data: await listRepairs(actor, query) }),
  );
  api.route(
    { method: 'post', path: '/credit/repairs/:id/decision', summary: 'Approve (after the quiet period, restoring points) or reject a repair (operator)', tags: ['credit'], auth: ['operator'], params: IdParams, body: RepairDecisionBody, response: RepairView },
    ({ actor, params, body }) => decideRepair(actor, params.id, body),
  );
  api.route(
    { method: 'post', path: '/credit/bonuses', summary: 'Award bonus points (operator; capped in the window)', tags: ['credit'], auth: ['operator'], body: BonusBody, response: z.object({ id: z.string(), orgId: z.string(), points: z.number(), reason: z.string(), at: z.string() }), status: 201 },
    ({ actor, body }) => awardBonus(actor, body),
  );
  api.route(
    { method: 'get', path: '/credit/sanctions', summary: 'Sanctions (mine; the operator sees all)', tags: ['credit'], auth: ['operator', 'distributor'], query: z.object({ orgId: ObjectIdString.optional(), active: z.enum(['true', 'false']).optional() }).strict(), response: z.object({ data: z.array(SanctionView) }) },
    async ({ actor, query }) => ({ data: await listSanctions(actor, { orgId: query.orgId, activeOnly: query.active === 'true' }) }),
  );
  api.route(
    { method: 'get', path: '/credit/standing', summary: 'My organisation\'s score, grade and sanctions in force (distributor)', tags: ['credit'], auth: ['distributor'], response: StandingView },
    ({ actor }) => standingView(actor.orgId),
  );
  api.route(
    { method: 'get', path: '/credit/public', summary: 'Public credit list: every distributor\'s grade, score and sanctions in force', tags: ['credit'], auth: 'public', response: z.object({ data: z.array(StandingView) }) },
    async () => ({ data: await publicCreditList() }),
  );
  api.route(
    { method: 'get', path: '/credit/distributors/:id', summary: 'One distributor\'s standing (public)', tags: ['credit'], auth: 'public', params: IdParams, response: StandingView },
    ({ params }) => standingView(params.id),
  );
  api.route(
    { method: 'get', path: '/credit/trend', summary: 'Score after each change (my organisation; the operator names one)', tags: ['credit'], auth: ['operator', 'distributor'], query: z.object({ orgId: ObjectIdString.optional() }).strict(), response: z.object({ data: z.array(z.object({ at: z.string(), score: z.number(), grade: z.string(), cause: z.string() })) }) },
    async ({ actor, query }) => ({ data: await scoreTrend(actor.role === 'operator' && query.orgId ? query.orgId : actor.orgId) }),
  );
  api.route(
    { method: 'get', path: '/credit/hospital-payments', summary: 'Hospital payment record: on-time payment rate and arrears per hospital over the last months (public)', tags: ['credit'], auth: 'public', query: z.object({ months: z.coerce.number().int().min(1).max(36).default(12) }).strict() },
    async ({ query }) => ({ data: await paymentRecord(query.months) }),
  );
  api.route(
    { method: 'get', path: '/credit/arrears-ranking', summary: 'Monthly arrears ranking by hospital level: top 3 by amount and by ratio (public; default last month)', tags: ['credit'], auth: 'public', query: z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'validationIssues.month').optional() }).strict() },
    ({ query }) => arrearsRanking(query.month ?? previousMonth()),
  );
  api.route(
    { method: 'get', path: '/credit/rules', summary: 'Credit rules in force (grade bands, sanction periods, windows, upload limits)', tags: ['credit'], auth: 'any' },
    () => creditRulesView(),
  );
  api.route(
    { method: 'patch', path: '/credit/rules', summary: 'Change grade bands, sanction periods or upload limits (operator)', tags: ['credit'], auth: ['operator'], body: CreditRulesPatch },
    ({ actor, body }) => updateCreditRules(actor, body),
  );
}

import type { ApiRouter } from '../../platform/http';
import { IdParams, z } from '../../platform/schemas';
import { AppError } from '../../platform/errors';
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
import {
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
  api.route(
    { method: 'get', path: '/credit/gate', summary: 'Whether my organisation may trade now (commitment signed, not suspended)', tags: ['credit'], auth: ['distributor'], response: GateStatus },
    async ({ actor }) => {
      const status = await commitmentStatus(actor.orgId);
      let refusal: { code: string; message: string } | null = null;
      try {
        await assertMayTrade(actor.orgId, 'quote');
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refusal = { code: err.code, message: err.message };
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

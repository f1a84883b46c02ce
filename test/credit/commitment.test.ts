import { expect } from 'chai';
import { Types } from 'mongoose';
import { assertMayTrade } from '../../server/modules/credit';
import { CommitmentSignature, CommitmentVersion, Sanction } from '../../server/modules/credit/credit.model';
import { sha256Hex } from '../../server/modules/credit/credit.commitment';
import { binaryBody } from '../support/binary';
import { buildTradingDistributor, creditOperator, publishCommitmentVersion, signCommitment, withdrawCommitmentVersion } from '../support/credit-factories';
import { buildUser } from '../support/factories';
import { extractPdfText } from '../support/pdf-text';
import { testClock } from '../support/global';

const ACTIONS = ['quote', 'bid', 'revise_quote', 'be_chosen', 'confirm_order'] as const;
const HOUR = 3600_000;

async function refusalOf(orgId: string, action: (typeof ACTIONS)[number]): Promise<{ code: string; message: string; details: unknown[] } | null> {
  try {
    await assertMayTrade(orgId, action);
    return null;
  } catch (err) {
    return err as { code: string; message: string; details: unknown[] };
  }
}

describe('credit: commitment letters and the trading gate', () => {
  it('shows a distributor the exact letter text with its hash, and signs it recording who, when, where and the hash', async () => {
    const user = await buildUser('distributor');
    await signCommitment(await buildUser('distributor')); // makes sure a version is in force
    const preview = await user.api().get('/api/v1/credit/commitment').expect(200);
    expect(preview.body.text).to.contain('违约惩戒承诺书');
    expect(preview.body.text).to.contain(user.org.name);
    expect(preview.body.textSha256).to.equal(sha256Hex(preview.body.text));
    expect(preview.body.signature).to.equal(null);

    const res = await user.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: preview.body.textSha256 }).expect(201);
    expect(res.body.created).to.equal(true);
    expect(res.body.signature).to.include({ orgId: user.org.id, userId: user.id, textSha256: preview.body.textSha256 });
    expect(res.body.signature.ip).to.be.a('string').and.not.empty;

    const stored = await CommitmentSignature.findById(res.body.signature.id).lean<{ text: string; textSha256: string }>();
    expect(sha256Hex(stored!.text)).to.equal(stored!.textSha256);

    const again = await user.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: preview.body.textSha256 }).expect(201);
    expect(again.body.created).to.equal(false);
    expect(again.body.signature.id).to.equal(res.body.signature.id);
    expect(await CommitmentSignature.countDocuments({ orgId: new Types.ObjectId(user.org.id) })).to.equal(1);
  });

  it('refuses a signature whose hash is not of the text shown, and stores nothing', async () => {
    const user = await buildUser('distributor');
    await signCommitment(await buildUser('distributor'));
    const preview = await user.api().get('/api/v1/credit/commitment').expect(200);
    const res = await user.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: 'a'.repeat(64) }).expect(409);
    expect(res.body.error.code).to.equal('COMMITMENT_TEXT_CHANGED');
    await user.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: 'nope' }).expect(400);
    await user.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: preview.body.textSha256, extra: 1 }).expect(400);
    await user.api().post('/api/v1/credit/commitment/sign', { versionId: new Types.ObjectId().toHexString(), textSha256: preview.body.textSha256 }).expect(404);
    expect(await CommitmentSignature.countDocuments({ orgId: new Types.ObjectId(user.org.id) })).to.equal(0);
  });

  it('lets only distributors sign and only operators publish', async () => {
    const pharmacist = await buildUser('pharmacist');
    await pharmacist.api().get('/api/v1/credit/commitment').expect(403);
    const distributor = await buildUser('distributor');
    const before = await CommitmentVersion.countDocuments({});
    await distributor.api().post('/api/v1/credit/commitment-versions', { title: 'x', body: 'y'.repeat(60) }).expect(403);
    expect(await CommitmentVersion.countDocuments({})).to.equal(before);
  });

  it('refuses to publish a broken template or a past effective date, storing nothing', async () => {
    const op = await creditOperator();
    const before = await CommitmentVersion.countDocuments({});
    const broken = await op.api().post('/api/v1/credit/commitment-versions', { title: '坏模板', body: `承诺单位：{{distributor.nmae}} ${'。'.repeat(60)}` }).expect(400);
    expect(broken.body.error.code).to.equal('COMMITMENT_TEMPLATE_INVALID');
    await op.api().post('/api/v1/credit/commitment-versions', { title: '坏模板', body: `{{#if}} ${'。'.repeat(60)}` }).expect(400);
    const past = await op.api().post('/api/v1/credit/commitment-versions', { title: '过去', body: '承诺'.repeat(40), effectiveAt: new Date(testClock.now().getTime() - 3 * HOUR).toISOString() }).expect(422);
    expect(past.body.error.code).to.equal('EFFECTIVE_DATE_IN_PAST');
    await op.api().post('/api/v1/credit/commitment-versions', { title: '', body: '承诺'.repeat(40) }).expect(400);
    expect(await CommitmentVersion.countDocuments({})).to.equal(before);
  });

  describe('the gate on every guarded action', () => {
    for (const action of ACTIONS) {
      it(`${action}: refuses an unsigned distributor, admits a signed one, refuses once a new version is in force, refuses a suspended one until the suspension ends`, async () => {
        const unsigned = await buildUser('distributor');
        const signed = await buildTradingDistributor();

        const r1 = await refusalOf(unsigned.org.id, action);
        expect(r1?.code).to.equal('COMMITMENT_NOT_SIGNED');
        expect(r1?.message).to.match(/has not signed version \d+/);
        expect(await refusalOf(signed.org.id, action)).to.equal(null);

        const next = await publishCommitmentVersion({ effectiveAt: new Date(testClock.now().getTime() + HOUR) });
        try {
          expect(await refusalOf(signed.org.id, action), 'still the old version before the effective date').to.equal(null);
          testClock.advance(HOUR + 1000);
          const r2 = await refusalOf(signed.org.id, action);
          expect(r2?.code).to.equal('COMMITMENT_NOT_SIGNED');
          expect(r2?.message).to.contain(`version ${next.version}`);
        } finally {
          testClock.reset();
          await withdrawCommitmentVersion(next.id);
        }
        expect(await refusalOf(signed.org.id, action)).to.equal(null);

        const endsAt = new Date(testClock.now().getTime() + 2 * HOUR);
        await Sanction.create({ orgId: new Types.ObjectId(signed.org.id), orgName: signed.org.name, kind: 'suspension', reason: 'GRADE_D', key: `gate-test-${signed.org.id}-${action}`, startsAt: testClock.now(), endsAt, createdAt: testClock.now() });
        const r3 = await refusalOf(signed.org.id, action);
        expect(r3?.code).to.equal('DISTRIBUTOR_SUSPENDED');
        expect(r3?.message).to.contain('suspended until');
        testClock.advance(2 * HOUR - 1000);
        expect((await refusalOf(signed.org.id, action))?.code).to.equal('DISTRIBUTOR_SUSPENDED');
        testClock.advance(1000);
        expect(await refusalOf(signed.org.id, action), 'open exactly at endsAt').to.equal(null);
      });
    }
  });

  it('lets a distributor sign a scheduled version in advance, so trading continues when it takes effect', async () => {
    const d = await buildTradingDistributor();
    const next = await publishCommitmentVersion({ effectiveAt: new Date(testClock.now().getTime() + HOUR) });
    try {
      const preview = await d.api().get(`/api/v1/credit/commitment?versionId=${next.id}`).expect(200);
      expect(preview.body.version.state).to.equal('scheduled');
      await d.api().post('/api/v1/credit/commitment/sign', { versionId: next.id, textSha256: preview.body.textSha256 }).expect(201);
      testClock.advance(HOUR + 1000);
      expect(await refusalOf(d.org.id, 'quote')).to.equal(null);
    } finally {
      testClock.reset();
      await withdrawCommitmentVersion(next.id);
    }
    const withdrawnSign = await d.api().get(`/api/v1/credit/commitment?versionId=${next.id}`).expect(422);
    expect(withdrawnSign.body.error.code).to.equal('COMMITMENT_VERSION_WITHDRAWN');
  });

  it('reports the gate to the distributor through the API', async () => {
    const unsigned = await buildUser('distributor');
    await signCommitment(await buildUser('distributor'));
    const before = await unsigned.api().get('/api/v1/credit/gate').expect(200);
    expect(before.body).to.include({ mayTrade: false, signed: false });
    expect(before.body.refusal.code).to.equal('COMMITMENT_NOT_SIGNED');
    await signCommitment(unsigned);
    const after = await unsigned.api().get('/api/v1/credit/gate').expect(200);
    expect(after.body).to.include({ mayTrade: true, signed: true });
  });

  it('withdraws only a version that has not taken effect', async () => {
    const op = await creditOperator();
    const current = (await op.api().get('/api/v1/credit/commitment-versions').expect(200)).body.data.find((v: { state: string }) => v.state === 'in_force');
    const res = await op.api().post(`/api/v1/credit/commitment-versions/${current.id}/withdraw`).expect(422);
    expect(res.body.error.code).to.equal('COMMITMENT_VERSION_NOT_SCHEDULED');
  });

  it('keeps signatures within the organisation', async () => {
    const a = await buildTradingDistributor();
    const b = await buildUser('distributor');
    const mine = await a.api().get('/api/v1/credit/commitment-signatures').expect(200);
    expect(mine.body.data).to.have.length.greaterThan(0);
    await b.api().get(`/api/v1/credit/commitment-signatures/${mine.body.data[0].id}`).expect(404);
    const own = await a.api().get(`/api/v1/credit/commitment-signatures/${mine.body.data[0].id}`).expect(200);
    expect(own.body.text).to.contain(a.org.name);
  });
});

describe('credit: signed commitment PDF', () => {
  it('renders the signed letter with the signer and the hash, deterministically, within the organisation', async () => {
    const d = await buildTradingDistributor();
    const sig = (await d.api().get('/api/v1/credit/commitment-signatures').expect(200)).body.data[0];
    const pdf = await d.api().get(`/api/v1/credit/commitment-signatures/${sig.id}/pdf`).buffer(true).parse(binaryBody).expect(200);
    expect(pdf.headers['content-type']).to.equal('application/pdf');
    const text = (await extractPdfText(pdf.body as Buffer)).replace(/\s+/g, '');
    expect(text).to.contain(sig.textSha256);
    expect(text).to.contain(sig.userName.replace(/\s+/g, ''));
    expect(text).to.contain(d.org.name.replace(/\s+/g, ''));
    expect(text).to.contain('违约惩戒承诺书');
    const again = await d.api().get(`/api/v1/credit/commitment-signatures/${sig.id}/pdf`).buffer(true).parse(binaryBody).expect(200);
    expect(Buffer.compare(again.body as Buffer, pdf.body as Buffer)).to.equal(0);
    const other = await buildUser('distributor');
    await other.api().get(`/api/v1/credit/commitment-signatures/${sig.id}/pdf`).expect(404);
    const op = await creditOperator();
    await op.api().get(`/api/v1/credit/commitment-signatures/${sig.id}/pdf`).expect(200);
  });
});

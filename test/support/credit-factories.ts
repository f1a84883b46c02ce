// Credit helpers for every module's tests: sign the commitment through the real API, and build a
// distributor that may trade.
import { readFileSync } from 'node:fs';
import { buildUser, type TestUser } from './factories';
import { testApp, testClock } from './global';

const DEFAULT_BODY_FILE = new URL('../../templates/commitments/default.zh.hbs', import.meta.url);

let operator: { user: TestUser; at: number } | undefined;

/**
 * An operator user shared by the credit helpers; a new one is signed in when the test clock has moved
 * far from the last sign-in (sessions last 12 hours of business time).
 */
export async function creditOperator(): Promise<TestUser> {
  const at = testClock.now().getTime();
  if (!operator || Math.abs(at - operator.at) > 6 * 3600_000) operator = { user: await buildUser('operator'), at };
  return operator.user;
}

interface VersionRow {
  id: string;
  version: number;
  state: 'in_force' | 'scheduled' | 'superseded' | 'withdrawn';
}

/** Publishes the default letter text as a new version effective now (or at `effectiveAt`). */
export async function publishCommitmentVersion(opts: { effectiveAt?: Date; title?: string; body?: string } = {}): Promise<VersionRow & { effectiveAt: string }> {
  const op = await creditOperator();
  const res = await op
    .api()
    .post('/api/v1/credit/commitment-versions', {
      title: opts.title ?? '药品集团采购配送企业违约惩戒承诺书',
      body: opts.body ?? readFileSync(DEFAULT_BODY_FILE, 'utf8'),
      ...(opts.effectiveAt ? { effectiveAt: opts.effectiveAt.toISOString() } : {}),
    });
  if (res.status !== 201) throw new Error(`publishing a commitment version failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Withdraws a scheduled version (cleans up after a test that published one for the future). */
export async function withdrawCommitmentVersion(versionId: string): Promise<void> {
  const op = await creditOperator();
  const res = await op.api().post(`/api/v1/credit/commitment-versions/${versionId}/withdraw`);
  if (res.status !== 200) throw new Error(`withdrawing a commitment version failed: ${res.status} ${JSON.stringify(res.body)}`);
}

async function signVersion(user: TestUser, versionId?: string): Promise<{ id: string; textSha256: string; version: number }> {
  const preview = await user.api().get(`/api/v1/credit/commitment${versionId ? `?versionId=${versionId}` : ''}`);
  if (preview.status !== 200) throw new Error(`reading the commitment failed: ${preview.status} ${JSON.stringify(preview.body)}`);
  const res = await user.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: preview.body.textSha256 });
  if (res.status !== 201) throw new Error(`signing the commitment failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.signature;
}

/**
 * Signs the version in force (publishing the default version first if none exists) through the real
 * API, and any version already scheduled to take effect later, so the distributor stays able to
 * trade when a test moves the clock forward. Returns the signature of the version in force.
 */
export async function signCommitment(user: TestUser): Promise<{ id: string; textSha256: string; version: number }> {
  const list = await user.api().get('/api/v1/credit/commitment-versions');
  if (list.status !== 200) throw new Error(`listing commitment versions failed: ${list.status}`);
  const versions = list.body.data as VersionRow[];
  if (!versions.some((v) => v.state === 'in_force')) await publishCommitmentVersion();
  const signature = await signVersion(user);
  for (const v of versions.filter((x) => x.state === 'scheduled')) await signVersion(user, v.id);
  return signature;
}

/** A distributor user whose organisation has signed the commitment in force. */
export async function buildTradingDistributor(): Promise<TestUser> {
  const user = await buildUser('distributor');
  await signCommitment(user);
  return user;
}

/**
 * Waits until every fact committed so far has been handed to its subscribers (notifications, pushes,
 * sanctions' expiry jobs, other modules' reactions), including facts those subscribers committed.
 */
export async function settled(): Promise<void> {
  await testApp().relay.idle();
}

/** Polls until `fn` returns a truthy value (jobs and event dispatch run asynchronously in the worker). */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, ms = 8000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** Uploads a small evidence file through the API; returns its id. */
export async function uploadEvidence(user: TestUser, purpose: 'breach_evidence' | 'appeal' | 'repair', opts: { name?: string; content?: Buffer; type?: string } = {}): Promise<string> {
  const content = opts.content ?? Buffer.from('%PDF-1.4\n% evidence for a test\n%%EOF\n', 'latin1');
  const res = await user
    .api()
    .post('/api/v1/credit/files')
    .field('purpose', purpose)
    .attach('file', content, { filename: opts.name ?? 'evidence.pdf', contentType: opts.type ?? 'application/pdf' });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Records a manual breach through the API (operator) with one evidence file. */
export async function recordManualBreach(orgId: string, opts: { code?: string; points?: number; severity?: 'shixin' | 'serious' | 'especially_serious'; level?: 1 | 2 | 3; description?: string } = {}) {
  const op = await creditOperator();
  const fileId = await uploadEvidence(op, 'breach_evidence');
  const res = await op.api().post('/api/v1/credit/breaches', {
    orgId,
    code: opts.code ?? 'MANUAL',
    description: opts.description ?? '经核实的医疗机构投诉：多次延误配送。',
    fileIds: [fileId],
    ...(opts.points !== undefined ? { points: opts.points } : {}),
    ...(opts.severity ? { severity: opts.severity } : {}),
    ...(opts.level ? { level: opts.level } : {}),
  });
  if (res.status !== 201) throw new Error(`manual breach failed: ${res.status} ${JSON.stringify(res.body)}`);
  await settled();
  return res.body.breach as { id: string; points: number; status: string; appealDeadline: string; occurredAt: string };
}

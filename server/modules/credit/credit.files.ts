// Evidence files (breach evidence, appeal and repair attachments), stored in MongoDB as binary with a
// SHA-256, limited in size and to PDF / PNG / JPEG / plain text checked by their first bytes.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import multer from 'multer';
import mongoose, { Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { NotFoundError, ValidationError } from '../../platform/errors';
import { msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { withCommand } from '../../platform/unit-of-work';
import { CreditFile, type CreditFileDoc, type EvidenceDoc } from './credit.model';
import { getCreditUploadLimits } from './credit.standing';

export const FILE_PURPOSES = ['breach_evidence', 'appeal', 'repair'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

function isFilePurpose(value: unknown): value is FilePurpose {
  return typeof value === 'string' && (FILE_PURPOSES as readonly string[]).includes(value);
}

const ALLOWED: Record<string, (b: Buffer) => boolean> = {
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'text/plain': (b) => !b.includes(0) && Buffer.from(b.toString('utf8'), 'utf8').equals(b),
};

function fileError(message: Message, code = 'FILE_REJECTED'): ValidationError {
  return new ValidationError({ code, message, details: [{ path: 'file', message }] });
}

function receive(req: Request, res: Response, maxBytes: number): Promise<void> {
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: maxBytes, files: 1, fields: 5, fieldSize: 1024 } }).single('file');
  return new Promise((resolve, reject) => {
    upload(req, res, (err: unknown) => {
      if (!err) return resolve();
      const code = (err as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE') return reject(fileError(msg('errorCodes.FILE_TOO_LARGE', { kb: Math.floor(maxBytes / 1024) }), 'FILE_TOO_LARGE'));
      if (code && code.startsWith('LIMIT_')) return reject(fileError(msg('errorCodes.FILE_ONE_ONLY')));
      return reject(fileError(msg('errorCodes.FILE_UNREADABLE')));
    });
  });
}

export function toEvidence(f: Pick<CreditFileDoc, '_id' | 'name' | 'contentType' | 'size' | 'sha256'>): EvidenceDoc {
  return { fileId: f._id, name: f.name, contentType: f.contentType, size: f.size, sha256: f.sha256 };
}

export function evidenceView(e: EvidenceDoc) {
  return { fileId: String(e.fileId), name: e.name, contentType: e.contentType, size: e.size, sha256: e.sha256, url: `/api/v1/credit/files/${String(e.fileId)}` };
}

/** Receives one multipart file (field `file`, plus `purpose`), checks it and stores it for the actor's organisation. */
export async function uploadFile(actor: Actor, req: Request, res: Response) {
  if (!req.is('multipart/form-data')) throw fileError(msg('errorCodes.FILE_NOT_MULTIPART'));
  const limits = await getCreditUploadLimits();
  await receive(req, res, limits.maxFileBytes);
  const purpose = (req.body as Record<string, unknown> | undefined)?.purpose;
  if (!isFilePurpose(purpose)) {
    throw new ValidationError({ code: 'VALIDATION_FAILED', message: msg('errorCodes.FILE_PURPOSE_INVALID'), details: [{ path: 'purpose', message: 'invalid' }] });
  }
  if (purpose === 'breach_evidence' && actor.role !== 'operator') throw fileError(msg('errorCodes.FILE_EVIDENCE_OPERATOR_ONLY'));
  const file = req.file;
  if (!file || file.size === 0) throw fileError(msg('errorCodes.FILE_EMPTY'));
  const type = file.mimetype.toLowerCase();
  const check = ALLOWED[type];
  if (!check) throw fileError(msg('errorCodes.FILE_TYPE_NOT_ALLOWED'), 'FILE_TYPE_NOT_ALLOWED');
  if (!check(file.buffer)) throw fileError(msg('errorCodes.FILE_CONTENT_MISMATCH', { type }), 'FILE_TYPE_NOT_ALLOWED');
  const name = Buffer.from(file.originalname, 'latin1').toString('utf8').replace(/[\\/\u0000-\u001f]/g, '_').slice(0, 200) || 'file';
  const sha256 = createHash('sha256').update(file.buffer).digest('hex');
  const id = new Types.ObjectId();
  await withCommand(actor, async (uow) => {
    await CreditFile.create(
      [{ _id: id, orgId: new Types.ObjectId(actor.orgId), purpose, name, contentType: type, size: file.size, sha256, data: file.buffer, uploadedAt: uow.at, uploadedBy: new Types.ObjectId(actor.id) }],
      { session: uow.session },
    );
    uow.audit({ action: 'credit.file.upload', targetType: 'credit_file', targetId: String(id), summary: msg('credit.audit.fileUploaded', { name, purpose: { msg: `credit.filePurpose.${purpose}` }, size: file.size }) });
  });
  return { id: String(id), name, contentType: type, size: file.size, sha256, purpose };
}

/** Files the actor uploaded for this purpose, as evidence entries; an unknown or foreign id is a 400 naming it. */
export async function claimFiles(actor: Actor, fileIds: readonly string[] | undefined, purpose: FilePurpose): Promise<EvidenceDoc[]> {
  if (!fileIds || fileIds.length === 0) return [];
  const limits = await getCreditUploadLimits();
  if (fileIds.length > limits.maxFiles) throw new ValidationError({ code: 'TOO_MANY_FILES', message: msg('errorCodes.TOO_MANY_FILES', { maxFiles: limits.maxFiles }), details: [{ path: 'fileIds' }] });
  const ids = [...new Set(fileIds)].map((id) => new Types.ObjectId(id));
  const rows = await CreditFile.find({ _id: trusted({ $in: ids }), orgId: new Types.ObjectId(actor.orgId), purpose }, { data: 0 }).lean<CreditFileDoc[]>();
  const missing = ids.filter((id) => !rows.some((r) => r._id.equals(id)));
  if (missing.length) {
    throw new ValidationError({ code: 'FILE_NOT_FOUND', message: msg('errorCodes.FILE_NOT_FOUND'), details: missing.map((id) => ({ path: 'fileIds', fileId: String(id) })) });
  }
  return rows.map(toEvidence);
}

/** Marks files as evidence about a distributor, so that distributor can read them too. */
export async function shareFilesWith(files: readonly EvidenceDoc[], orgId: Types.ObjectId, session: ClientSession): Promise<void> {
  if (files.length === 0) return;
  await CreditFile.updateMany({ _id: trusted({ $in: files.map((f) => f.fileId) }) }, { $set: { subjectOrgId: orgId } }, { session });
}

/** A stored file's bytes (a lean read may hold them as a BSON Binary). */
export function fileBytes(data: Buffer | mongoose.mongo.Binary): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer);
}

/** A file, if the actor's organisation uploaded it or it is evidence about the actor's organisation (the operator reads all). */
export async function readFile(actor: Actor, id: string): Promise<CreditFileDoc> {
  const filter: Record<string, unknown> = { _id: new Types.ObjectId(id) };
  if (actor.role !== 'operator') {
    const org = new Types.ObjectId(actor.orgId);
    filter.$or = [{ orgId: org }, { subjectOrgId: org }];
  }
  const f = await CreditFile.findOne(filter).lean<CreditFileDoc>();
  if (!f) throw new NotFoundError({ code: 'FILE_NOT_FOUND', message: msg('errorCodes.FILE_NOT_FOUND_2') });
  return f;
}

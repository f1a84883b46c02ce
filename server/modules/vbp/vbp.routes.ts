import multer from 'multer';
import { assertRole } from '../../platform/auth';
import { platform } from '../../platform/context';
import { ValidationError } from '../../platform/errors';
import { downloadRoute, XLSX_CONTENT_TYPE, type ApiRouter } from '../../platform/http';
import { isLang, type Lang } from '../../platform/i18n';
import { ErrorResponse, IdParams, PageQuery, z } from '../../platform/schemas';
import { parse } from '../../platform/validate';
import type { Request } from 'express';
import { finaliseTender, openTender, respondFollowPrice } from './vbp.award';
import { groupCompletion } from './vbp.completion';
import { allContracts, declareSupplyFailure, getContractView, listContracts, loadContractFor, promoteBackup } from './vbp.contracts';
import { createDeclaration, declarationSummary, listDeclarations, loadDeclaration, myEntries, remindMissing, submitEntries, toDeclarationView } from './vbp.declarations';
import { declarationTemplateCsv, importDeclaration } from './vbp.import';
import { contractsXlsx, declarationsXlsx } from './vbp.exports';
import { ocdsPackage } from './vbp.ocds';
import { contractPdf } from './vbp.pdf';
import {
  BidBody,
  BidParams,
  CompletionQuery,
  ContractListQuery,
  CreateDeclarationBody,
  CreateTenderBody,
  DeclarationListQuery,
  FollowBody,
  ImportQuery,
  SubmitEntriesBody,
  SupplyFailureBody,
  TenderLineParams,
} from './vbp.schemas';
import { VbpSettings, VbpSettingsPatch, getVbpSettings, updateVbpSettings } from './vbp.settings';
import { createTender, listTenders, loadTender, placeBid, tenderView, withdrawBid } from './vbp.tenders';
import { msg } from '../../platform/messages';

const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5 } });

const TAG = ['vbp'];
const Obj = z.record(z.string(), z.unknown());
const HOSPITAL = ['pharmacist'] as const;
const VIEWERS = ['operator', 'pharmacist', 'hospital_finance', 'distributor'] as const;

export function langOf(req: Request): Lang {
  const l = (req.res?.locals as { lang?: unknown } | undefined)?.lang;
  return isLang(l) ? l : 'zh';
}

export function vbpRoutes(api: ApiRouter): void {
  api.route({ method: 'get', path: '/vbp/settings', summary: 'VBP defaults: declaration floor, follow-price window, selection rules, completion checks', tags: TAG, auth: ['operator'], response: VbpSettings }, () => getVbpSettings());
  api.route(
    { method: 'patch', path: '/vbp/settings', summary: 'Change VBP defaults (operator); running tenders keep their own copy', tags: TAG, auth: ['operator'], body: VbpSettingsPatch, response: VbpSettings },
    ({ actor, body }) => updateVbpSettings(actor, body),
  );

  api.route(
    { method: 'post', path: '/vbp/declarations', summary: 'Open a demand declaration (报量) for a list of drugs with a deadline (operator)', tags: TAG, auth: ['operator'], body: CreateDeclarationBody, response: Obj, status: 201, idempotent: true },
    ({ actor, body }) => createDeclaration(actor, body),
  );
  api.route(
    { method: 'get', path: '/vbp/declarations', summary: 'Demand declarations, newest first', tags: TAG, auth: ['operator', ...HOSPITAL], query: DeclarationListQuery, response: Obj },
    ({ query }) => listDeclarations(query),
  );
  downloadRoute(
    api,
    { path: '/vbp/declarations/export.xlsx', summary: 'Demand declarations as Excel, one row per drug: a hospital its own quantities, the operator the totals', tags: TAG, auth: ['operator', ...HOSPITAL], contentType: XLSX_CONTENT_TYPE },
    ({ actor, lang }) => declarationsXlsx(actor, lang),
  );
  api.route(
    { method: 'get', path: '/vbp/declarations/:id', summary: "A declaration; a hospital also gets its own entries with last year's platform purchases pre-filled", tags: TAG, auth: ['operator', ...HOSPITAL], params: IdParams, response: Obj },
    async ({ actor, params }) => {
      const d = await loadDeclaration(params.id);
      return { declaration: toDeclarationView(d), ...(actor.orgType === 'hospital' ? { mine: await myEntries(actor, d) } : {}) };
    },
  );
  api.route(
    { method: 'put', path: '/vbp/declarations/:id/entries', summary: 'Declare (or revise) annual demand per drug (hospital); all entries or none', tags: TAG, auth: HOSPITAL, params: IdParams, body: SubmitEntriesBody, response: Obj },
    ({ actor, params, body }) => submitEntries(actor, params.id, body.entries, 'api'),
  );
  api.route(
    { method: 'get', path: '/vbp/declarations/:id/summary', summary: 'Totals per drug, and the hospitals that have not declared (operator)', tags: TAG, auth: ['operator'], params: IdParams, response: Obj },
    async ({ params }) => declarationSummary(await loadDeclaration(params.id)),
  );
  api.route(
    { method: 'post', path: '/vbp/declarations/:id/remind', summary: 'Remind every hospital that has not declared every drug (operator; once a day per hospital)', tags: TAG, auth: ['operator'], params: IdParams, response: Obj },
    ({ actor, params }) => remindMissing(actor, params.id),
  );

  api.registry.registerPath({
    method: 'get',
    path: '/api/v1/vbp/declarations/{id}/template.csv',
    summary: "The hospital's declaration file, pre-filled (CSV, Chinese headers)",
    tags: TAG,
    security: [{ bearerAuth: [] }],
    request: { params: IdParams },
    responses: { 200: { description: 'CSV file' } },
  });
  api.router.get('/vbp/declarations/:id/template.csv', async (req, res) => {
    assertRole(req.actor, [...HOSPITAL]);
    const { id } = parse(IdParams, req.params, 'path');
    const d = await loadDeclaration(id);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="vbp-declaration-${id}.csv"`);
    res.send(await declarationTemplateCsv(req.actor, d));
  });

  api.registry.registerPath({
    method: 'post',
    path: '/api/v1/vbp/declarations/{id}/import',
    summary: 'Import the declaration from CSV or XLSX (hospital): all rows or none, with a per-row error report',
    tags: TAG,
    security: [{ bearerAuth: [] }],
    request: { params: IdParams, query: ImportQuery, body: { content: { 'multipart/form-data': { schema: z.object({ file: z.string().openapi({ format: 'binary' }) }) } } } },
    responses: {
      200: { description: 'Imported (or checked, with dryRun=true)', content: { 'application/json': { schema: Obj } } },
      422: { description: 'Rows with errors; nothing imported; details list each row', content: { 'application/json': { schema: ErrorResponse } } },
    },
  });
  api.router.post(
    '/vbp/declarations/:id/import',
    (req, _res, next) => {
      assertRole(req.actor, [...HOSPITAL]);
      next();
    },
    upload.single('file'),
    async (req, res) => {
      assertRole(req.actor, [...HOSPITAL]);
      const { id } = parse(IdParams, req.params, 'path');
      const query = parse(ImportQuery, req.query, 'query');
      if (!req.file) throw new ValidationError({ code: 'FILE_REQUIRED', message: msg('errorCodes.FILE_REQUIRED') });
      res.json(await importDeclaration(req.actor, id, req.file, query.dryRun === 'true'));
    },
  );

  api.route(
    { method: 'post', path: '/vbp/tenders', summary: 'Open a tender on a closed declaration: lines with ceiling prices, bid opening time, rules (operator)', tags: TAG, auth: ['operator'], body: CreateTenderBody, response: Obj, status: 201, idempotent: true },
    ({ actor, body, req }) => createTender(actor, body, langOf(req)),
  );
  api.route(
    { method: 'get', path: '/vbp/tenders', summary: 'Tenders, newest first', tags: TAG, auth: VIEWERS, query: PageQuery, response: Obj },
    async ({ actor, query, req }) => {
      const page = await listTenders(query);
      return { data: await Promise.all(page.rows.map((t) => tenderView(actor, t, langOf(req)))), nextCursor: page.nextCursor };
    },
  );
  api.route(
    { method: 'get', path: '/vbp/tenders/:id', summary: 'A tender as the caller may see it: sealed prices stay with their bidder until the opening', tags: TAG, auth: VIEWERS, params: IdParams, response: Obj },
    async ({ actor, params, req }) => tenderView(actor, await loadTender(params.id), langOf(req)),
  );
  api.route(
    { method: 'post', path: '/vbp/tenders/:id/bids', summary: 'Place or revise a sealed bid on a line (distributor; credit gate; at most the ceiling)', tags: TAG, auth: ['distributor'], params: IdParams, body: BidBody, response: Obj, status: 201, idempotent: true },
    ({ actor, params, body }) => placeBid(actor, params.id, body),
  );
  api.route(
    { method: 'delete', path: '/vbp/tenders/:id/bids/:bidId', summary: 'Withdraw a bid before the opening (distributor)', tags: TAG, auth: ['distributor'], params: BidParams },
    async ({ actor, params }) => {
      await withdrawBid(actor, params.id, params.bidId);
      return undefined;
    },
  );
  api.route(
    { method: 'post', path: '/vbp/tenders/:id/open', summary: 'Open the bids now if the closing time has passed (operator; the scheduled job normally does it)', tags: TAG, auth: ['operator'], params: IdParams, response: Obj },
    async ({ actor, params, req }) => {
      await openTender(params.id, actor);
      return tenderView(actor, await loadTender(params.id), langOf(req));
    },
  );
  api.route(
    {
      method: 'post',
      path: '/vbp/tenders/:id/lines/:lineId/follow-price',
      summary: 'Accept or decline the highest winning price on a line where the bid missed the price test (distributor)',
      tags: TAG,
      auth: ['distributor'],
      params: TenderLineParams,
      body: FollowBody,
      response: Obj,
      idempotent: true,
    },
    ({ actor, params, body }) => respondFollowPrice(actor, params.id, params.lineId, body.accept),
  );
  api.route(
    { method: 'post', path: '/vbp/tenders/:id/finalise', summary: 'Finalise once the acceptance window has ended (operator; the scheduled job normally does it)', tags: TAG, auth: ['operator'], params: IdParams, response: Obj },
    async ({ actor, params, req }) => {
      await finaliseTender(params.id, actor);
      return tenderView(actor, await loadTender(params.id), langOf(req));
    },
  );
  api.route(
    { method: 'get', path: '/vbp/tenders/:id/ocds', summary: 'The tender, awards and contracts as an OCDS 1.1 release package (open data)', tags: TAG, auth: 'public', params: IdParams, response: Obj },
    ({ params }) => ocdsPackage(params.id, platform().config.publicUrl.replace(/\/$/, '')),
  );

  api.route(
    { method: 'get', path: '/vbp/contracts', summary: 'Contracts the caller may see, with completion (hospital: its own; distributor: its own)', tags: TAG, auth: VIEWERS, query: ContractListQuery, response: Obj },
    ({ actor, query }) => listContracts(actor, query),
  );
  downloadRoute(
    api,
    { path: '/vbp/contracts/export.xlsx', summary: 'The contracts list as Excel: every contract under the same filters and scope as GET /vbp/contracts', tags: TAG, auth: VIEWERS, query: ContractListQuery.omit({ cursor: true, limit: true }), contentType: XLSX_CONTENT_TYPE },
    ({ actor, query, lang }) => contractsXlsx(actor, query, lang),
  );
  api.route(
    { method: 'get', path: '/vbp/contracts/:id', summary: 'One contract with its completion and alerts', tags: TAG, auth: VIEWERS, params: IdParams, response: Obj },
    ({ actor, params }) => getContractView(actor, params.id),
  );
  api.registry.registerPath({
    method: 'get',
    path: '/api/v1/vbp/contracts/{id}/pdf',
    summary: 'The contract as a PDF (带量采购协议)',
    tags: TAG,
    security: [{ bearerAuth: [] }],
    request: { params: IdParams },
    responses: { 200: { description: 'PDF' } },
  });
  api.router.get('/vbp/contracts/:id/pdf', async (req, res) => {
    assertRole(req.actor, [...VIEWERS]);
    const { id } = parse(IdParams, req.params, 'path');
    const c = await loadContractFor(req.actor, id);
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `inline; filename="${c.contractNo}.pdf"`);
    res.send(await contractPdf(c, langOf(req)));
  });
  api.route(
    { method: 'post', path: '/vbp/contracts/:id/supply-failure', summary: "Declare the winner's supply failure (operator): a credit breach; the next bidder in rank order takes the remaining volume", tags: TAG, auth: ['operator'], params: IdParams, body: SupplyFailureBody, response: Obj, idempotent: true },
    ({ actor, params, body }) => declareSupplyFailure(actor, params.id, body.reason),
  );
  api.route(
    { method: 'post', path: '/vbp/contracts/:id/promote-backup', summary: 'Retry promoting a backup for a failed contract (operator), e.g. once a bidder may trade again', tags: TAG, auth: ['operator'], params: IdParams, response: Obj, idempotent: true },
    ({ actor, params }) => promoteBackup(actor, params.id),
  );
  api.route(
    { method: 'get', path: '/vbp/completion', summary: 'Purchased versus agreed by contract, hospital, drug or winner (hospital and distributor: their own)', tags: TAG, auth: VIEWERS, query: CompletionQuery, response: Obj },
    async ({ actor, query }) => ({ by: query.by, data: groupCompletion(await allContracts(actor, { tenderId: query.tenderId }), query.by) }),
  );
}

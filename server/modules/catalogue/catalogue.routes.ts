import multer from 'multer';
import { assertRole } from '../../platform/auth';
import { ValidationError } from '../../platform/errors';
import { isLang } from '../../platform/i18n';
import type { ApiRouter } from '../../platform/http';
import { ErrorResponse, IdParams, z } from '../../platform/schemas';
import { businessDay } from '../../platform/time';
import { now } from '../../platform/context';
import { parse } from '../../platform/validate';
import { catalogueCsv, catalogueXlsx, importCatalogue } from './catalogue.import';
import { CreateDrugBody, DrugList, DrugListQuery, DrugView, ExportQuery, ImportQuery, ImportReport, ReferencePriceBody, ReferencePriceView, UpdateDrugBody } from './catalogue.schemas';
import { addReferencePrice, allDrugs, createDrug, getDrugView, listDrugs, listReferencePrices, updateDrug } from './catalogue.service';
import { msg } from '../../platform/messages';

const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5 } });

/** Sends a catalogue export as a download (CSV or XLSX). */
export async function sendCatalogueExport(res: import('express').Response, query: z.infer<typeof ExportQuery>): Promise<void> {
  const lang = isLang(res.locals.lang) ? res.locals.lang : 'zh';
  const { format, ...filters } = query;
  const drugs = await allDrugs({ ...filters, q: filters.q, active: filters.active });
  const stamp = businessDay(now());
  if (format === 'xlsx') {
    res.set('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    res.set('Content-Disposition', `attachment; filename="catalogue-${stamp}.xlsx"`);
    res.send(await catalogueXlsx(drugs, lang));
    return;
  }
  res.set('Content-Type', 'text/csv; charset=utf-8');
  res.set('Content-Disposition', `attachment; filename="catalogue-${stamp}.csv"`);
  res.send(catalogueCsv(drugs));
}

export function catalogueRoutes(api: ApiRouter): void {
  api.route(
    { method: 'get', path: '/catalogue/drugs', summary: 'Search the drug catalogue (name substring, code prefix, dosage form, category)', tags: ['catalogue'], auth: 'any', query: DrugListQuery, response: DrugList },
    ({ query }) => listDrugs(query),
  );
  api.route(
    { method: 'get', path: '/catalogue/drugs/:id', summary: 'One drug with its reference price in force', tags: ['catalogue'], auth: 'any', params: IdParams, response: DrugView },
    ({ params }) => getDrugView(params.id),
  );
  api.route(
    { method: 'post', path: '/catalogue/drugs', summary: 'Add a drug (operator); codes are validated and must be unique', tags: ['catalogue'], auth: ['operator'], body: CreateDrugBody, response: DrugView, status: 201, idempotent: true },
    ({ actor, body }) => createDrug(actor, body),
  );
  api.route(
    { method: 'patch', path: '/catalogue/drugs/:id', summary: 'Change a drug (operator)', tags: ['catalogue'], auth: ['operator'], params: IdParams, body: UpdateDrugBody, response: DrugView },
    ({ actor, params, body }) => updateDrug(actor, params.id, body),
  );
  api.route(
    { method: 'get', path: '/catalogue/drugs/:id/reference-prices', summary: 'Reference price history of a drug', tags: ['catalogue'], auth: 'any', params: IdParams, response: z.object({ data: z.array(ReferencePriceView) }) },
    ({ params }) => listReferencePrices(params.id),
  );
  api.route(
    { method: 'post', path: '/catalogue/drugs/:id/reference-prices', summary: 'Add an effective-dated reference price (operator)', tags: ['catalogue'], auth: ['operator'], params: IdParams, body: ReferencePriceBody, response: z.object({ data: z.array(ReferencePriceView) }), status: 201, idempotent: true },
    ({ actor, params, body }) => addReferencePrice(actor, params.id, body),
  );

  api.registry.registerPath({
    method: 'get',
    path: '/api/v1/catalogue/export',
    summary: 'Export the catalogue (CSV with Chinese headers, or XLSX); same filters as the search',
    tags: ['catalogue'],
    security: [{ bearerAuth: [] }],
    request: { query: ExportQuery },
    responses: { 200: { description: 'The file' }, 400: { description: 'Invalid request', content: { 'application/json': { schema: ErrorResponse } } } },
  });
  api.router.get('/catalogue/export', async (req, res) => {
    assertRole(req.actor, 'any');
    await sendCatalogueExport(res, parse(ExportQuery, req.query, 'query'));
  });

  api.registry.registerPath({
    method: 'post',
    path: '/api/v1/catalogue/import',
    summary: 'Import drugs from CSV or XLSX (operator): all rows or none, with a per-row error report',
    tags: ['catalogue'],
    security: [{ bearerAuth: [] }],
    request: {
      query: ImportQuery,
      body: { content: { 'multipart/form-data': { schema: z.object({ file: z.string().openapi({ format: 'binary' }) }) } } },
    },
    responses: {
      200: { description: 'Imported (or checked, with dryRun=true)', content: { 'application/json': { schema: ImportReport } } },
      422: { description: 'Rows with errors; nothing imported; details list each row', content: { 'application/json': { schema: ErrorResponse } } },
    },
  });
  api.router.post('/catalogue/import', (req, _res, next) => {
    assertRole(req.actor, ['operator']);
    next();
  }, upload.single('file'), async (req, res) => {
    assertRole(req.actor, ['operator']);
    const query = parse(ImportQuery, req.query, 'query');
    if (!req.file) throw new ValidationError({ code: 'FILE_REQUIRED', message: msg('errorCodes.FILE_REQUIRED') });
    res.json(await importCatalogue(req.actor, req.file, query.dryRun === 'true'));
  });
}

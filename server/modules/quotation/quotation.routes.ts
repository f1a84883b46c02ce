import type { Response } from 'express';
import { assertRole } from '../../platform/auth';
import type { ApiRouter } from '../../platform/http';
import { isLang } from '../../platform/i18n';
import { ErrorResponse, IdParams, z } from '../../platform/schemas';
import { parse } from '../../platform/validate';
import { replayRound, roundEvents, roundEventsCsv } from './quotation.audit';
import { replyLang } from '../../platform/error-handler';
import { boardFor, loadVisibleRound } from './quotation.board';
import { browseListings, myListings, withdrawListing } from './quotation.listings';
import { ocdsReleasePackage } from './quotation.ocds';
import { announcementPdf } from './quotation.pdf';
import { submitQuote, withdrawQuote } from './quotation.quotes';
import { cancelRound, createRound, listRounds, reportOf, scheduleRound, summaryOf, updateRound } from './quotation.rounds';
import { CancelRoundBody, CreateRoundBody, ListingQuery, QuoteBody, ReplayQuery, RoundLineParams, RoundListQuery, UpdateRoundBody, WithdrawListingBody } from './quotation.schemas';

const RoundSummary = z
  .object({
    id: z.string(),
    no: z.string(),
    title: z.string(),
    status: z.string(),
    visibility: z.string(),
    lineCount: z.number().int(),
    opensAt: z.string(),
    closesAt: z.string(),
    scheduledClosesAt: z.string(),
    extensions: z.number().int(),
    maxExtensions: z.number().int(),
    windowSec: z.number().int(),
    extendSec: z.number().int(),
    minDecrementBp: z.number().int(),
    listingValidityDays: z.number().int(),
    publishedAt: z.string().nullable(),
    listingExpiresAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('RoundSummary');

const QuoteResult = z
  .object({
    quoteId: z.string(),
    roundId: z.string(),
    lineId: z.string(),
    priceFen: z.number().int(),
    receivedAt: z.string(),
    seq: z.number().int(),
    rank: z.number().int().nullable(),
    bestPriceFen: z.number().int().nullable().optional(),
    alias: z.string(),
    closesAt: z.string(),
    extended: z.boolean(),
    replayed: z.boolean(),
  })
  .openapi('QuoteResult');

function registerDownload(api: ApiRouter, path: string, summary: string, contentType: string): void {
  api.registry.registerPath({
    method: 'get',
    path: `/api/v1${path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
    summary,
    tags: ['quotation'],
    security: [{ bearerAuth: [] }],
    request: { params: IdParams },
    responses: { 200: { description: contentType }, 404: { description: 'Not found', content: { 'application/json': { schema: ErrorResponse } } } },
  });
}

function sendFile(res: Response, file: { filename: string; body: Buffer }, contentType: string, inline = false): void {
  res.set('Content-Type', contentType);
  res.set('Content-Disposition', `${inline ? 'inline' : 'attachment'}; filename="${file.filename}"`);
  res.send(file.body);
}

export function quotationRoutes(api: ApiRouter): void {
  api.route(
    { method: 'post', path: '/rounds', summary: 'Create a draft quotation round from catalogue drugs (operator)', tags: ['quotation'], auth: ['operator'], body: CreateRoundBody, response: RoundSummary, status: 201, idempotent: true },
    async ({ actor, body }) => summaryOf(await createRound(actor, body)),
  );
  api.route(
    { method: 'get', path: '/rounds', summary: 'Quotation rounds the caller may see, newest first', tags: ['quotation'], auth: 'any', query: RoundListQuery, response: z.object({ data: z.array(RoundSummary), nextCursor: z.string().nullable() }) },
    ({ actor, query }) => listRounds(actor, query),
  );
  api.route(
    { method: 'get', path: '/rounds/:id', summary: 'A round as the caller may see it: timing, lines, own quotes and ranks, or every quote by alias (operator)', tags: ['quotation'], auth: 'any', params: IdParams },
    async ({ actor, params }) => boardFor(actor, await loadVisibleRound(actor, params.id)),
  );
  api.route(
    { method: 'patch', path: '/rounds/:id', summary: 'Edit a draft round (operator)', tags: ['quotation'], auth: ['operator'], params: IdParams, body: UpdateRoundBody, response: RoundSummary },
    async ({ actor, params, body }) => summaryOf(await updateRound(actor, params.id, body)),
  );
  api.route(
    { method: 'post', path: '/rounds/:id/schedule', summary: 'Schedule a draft round: opening and closing jobs are queued (operator)', tags: ['quotation'], auth: ['operator'], params: IdParams, response: RoundSummary },
    async ({ actor, params }) => summaryOf(await scheduleRound(actor, params.id)),
  );
  api.route(
    { method: 'post', path: '/rounds/:id/cancel', summary: 'Cancel a round before it closes (operator)', tags: ['quotation'], auth: ['operator'], params: IdParams, body: CancelRoundBody, response: RoundSummary },
    async ({ actor, params, body }) => summaryOf(await cancelRound(actor, params.id, body.reason)),
  );
  api.route(
    { method: 'post', path: '/rounds/:id/quotes', summary: 'Quote or revise a quote on a round line (distributor)', tags: ['quotation'], auth: ['distributor'], params: IdParams, body: QuoteBody, response: QuoteResult, status: 201, idempotent: true },
    ({ actor, params, body }) => submitQuote(actor, { roundId: params.id, ...body }, 'http'),
  );
  api.route(
    { method: 'post', path: '/rounds/:id/lines/:lineId/withdraw', summary: 'Withdraw your quote on a line before the close (distributor)', tags: ['quotation'], auth: ['distributor'], params: RoundLineParams },
    ({ actor, params }) => withdrawQuote(actor, { roundId: params.id, lineId: params.lineId }, 'http'),
  );
  api.route(
    { method: 'get', path: '/rounds/:id/report', summary: 'Round report: per line and overall quotes, best price, reduction (operator, hospitals)', tags: ['quotation'], auth: ['operator', 'pharmacist', 'hospital_finance'], params: IdParams },
    ({ actor, params }) => reportOf(actor, params.id),
  );
  api.route(
    { method: 'get', path: '/rounds/:id/events', summary: 'The round audit trail: every quote event with server time (operator)', tags: ['quotation'], auth: ['operator'], params: IdParams },
    ({ params }) => roundEvents(params.id),
  );
  api.route(
    { method: 'get', path: '/rounds/:id/replay', summary: 'Replay of the ranking history from the audit trail (operator)', tags: ['quotation'], auth: ['operator'], params: IdParams, query: ReplayQuery },
    ({ params, query }) => replayRound(params.id, query.lineId),
  );
  api.route(
    { method: 'get', path: '/rounds/:id/ocds', summary: 'A published round as an OCDS release package (open data)', tags: ['quotation', 'open data'], auth: 'public', params: IdParams },
    ({ params }) => ocdsReleasePackage(params.id),
  );

  registerDownload(api, '/rounds/:id/events.csv', 'The round audit trail as CSV (operator)', 'text/csv');
  api.router.get('/rounds/:id/events.csv', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const { id } = parse(IdParams, req.params, 'path');
    sendFile(res, await roundEventsCsv(id, replyLang(req, undefined)), 'text/csv; charset=utf-8');
  });
  registerDownload(api, '/rounds/:id/announcement.pdf', 'The announcement PDF of a published round (operator, hospitals)', 'application/pdf');
  api.router.get('/rounds/:id/announcement.pdf', async (req, res) => {
    assertRole(req.actor, 'any');
    const { id } = parse(IdParams, req.params, 'path');
    sendFile(res, await announcementPdf(req.actor, id, isLang(res.locals.lang) ? res.locals.lang : 'zh'), 'application/pdf', true);
  });

  api.route(
    { method: 'get', path: '/listings', summary: 'Current listings by drug with prices, reductions and credit grades (hospitals, operator)', tags: ['quotation'], auth: ['pharmacist', 'hospital_finance', 'operator'], query: ListingQuery },
    ({ actor, query }) => browseListings(actor, query),
  );
  api.route(
    { method: 'get', path: '/listings/mine', summary: 'Your listing entries (distributor)', tags: ['quotation'], auth: ['distributor'] },
    ({ actor }) => myListings(actor),
  );
  api.route(
    { method: 'post', path: '/listings/:id/withdraw', summary: 'Withdraw a published listing entry (distributor; recorded as a credit breach)', tags: ['quotation'], auth: ['distributor'], params: IdParams, body: WithdrawListingBody },
    ({ actor, params, body }) => withdrawListing(actor, params.id, body.reason),
  );
}

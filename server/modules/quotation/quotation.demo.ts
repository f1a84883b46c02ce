// Demo rounds: a past round already published (so hospitals have a listing to order from, with
// urokinase at ¥1,950.00 against ¥2,890.00 as in the source documents) and a round open for three days
// that the demo distributors can quote on once they sign the commitment.
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import type { Logger } from '../../platform/logger';
import { trusted } from '../../platform/mongo';
import { addDays, addHours } from '../../platform/time';
import { currentReferencePrices, Drug } from '../catalogue';
import { Organisation, User } from '../identity';
import { rank } from './quotation.board';
import { Listing, Participant, Quote, QuoteEvent, Round, type QuoteRecord, type RoundRecord } from './quotation.model';
import { aliasFor } from './quotation.quotes';
import { createRound, listingEntry, scheduleRound } from './quotation.rounds';
import { minimumDecrementFen, roundReport } from './quotation.rules';

const PAST_TITLE = '2026 年第一批短缺药品报价（示范）';
const OPEN_TITLE = '2026 年第二批短缺药品报价（示范）';
const PAST_DRUGS = ['urokinase', 'protamine', 'deslanoside', 'thiamazole', 'dactinomycin', 'pralidoxime', 'polymyxin', 'dimercaprol', 'methylene-blue', 'oxytocin'];
const OPEN_DRUGS = ['digoxin', 'mercaptopurine', 'vitk1', 'ptu', 'bleomycin-a5', 'phenytoin', 'heparin'];
// Share of the reference price each demo distributor quotes per line (basis points); 0 = no quote.
// Line 1 (urokinase, ¥2,890.00) is quoted in exact fen: ¥1,950.00 is the source documents' example (−32.5%).
const PAST_PRICES_BP = [
  [0, 9100, 8800, 9500, 0, 9300, 8400, 9700, 0, 9000],
  [0, 8900, 9200, 0, 9600, 9100, 8700, 0, 0, 8800],
  [0, 0, 9000, 9300, 9400, 0, 8600, 9800, 0, 9400],
  [0, 9400, 0, 9100, 0, 9500, 0, 0, 0, 9200],
];
const UROKINASE_FEN = [195_000, 205_000, 238_000, null];

async function demoActor(): Promise<Actor | null> {
  const user = await User.findOne({ email: 'operator@demo.gpo' }).lean<{ _id: Types.ObjectId; name: string; email: string; orgId: Types.ObjectId }>();
  const org = user ? await Organisation.findById(user.orgId).lean<{ name: string }>() : null;
  if (!user || !org) return null;
  return { id: String(user._id), sessionId: 'demo', email: user.email, name: user.name, role: 'operator', orgId: String(user.orgId), orgType: 'operator', orgName: org.name };
}

async function demoDrugIds(keys: string[]): Promise<Types.ObjectId[]> {
  const rows = await Drug.find({ demoKey: trusted({ $in: keys.map((k) => `demo:${k}`) }) }, { demoKey: 1 }).lean<{ _id: Types.ObjectId; demoKey: string }[]>();
  return keys.flatMap((k) => rows.filter((r) => r.demoKey === `demo:${k}`).map((r) => r._id));
}

/** Seeds the demo rounds once (skipped when they exist or the demo catalogue and users are missing). */
export async function seedDemoRounds(logger: Logger): Promise<void> {
  const actor = await demoActor();
  if (!actor) return;
  const distributors = await Organisation.find({ demoKey: trusted({ $in: ['distributor-1', 'distributor-2', 'distributor-3', 'distributor-4'] }) }, { name: 1, demoKey: 1 })
    .sort({ demoKey: 1 })
    .lean<{ _id: Types.ObjectId; name: string }[]>();
  if (!(await Round.exists({ title: PAST_TITLE }))) {
    const drugIds = await demoDrugIds(PAST_DRUGS);
    if (drugIds.length === PAST_DRUGS.length && distributors.length === 4) await seedPastRound(actor, drugIds, distributors);
  }
  if (!(await Round.exists({ title: OPEN_TITLE }))) {
    const drugIds = await demoDrugIds(OPEN_DRUGS);
    if (drugIds.length) {
      const at = now();
      const round = await createRound(actor, { title: OPEN_TITLE, lines: drugIds.map((id) => ({ drugId: String(id) })), opensAt: at.toISOString(), closesAt: addDays(at, 3).toISOString(), visibility: 'rank' });
      await scheduleRound(actor, String(round._id));
    }
  }
  logger.info('demo quotation rounds ready');
}

/** A round that ran last week: its quotes, audit trail, listing and report, as the close would have left them. */
async function seedPastRound(actor: Actor, drugIds: Types.ObjectId[], distributors: { _id: Types.ObjectId; name: string }[]): Promise<void> {
  const opensAt = addDays(startOfHour(now()), -10);
  const closesAt = addDays(opensAt, 7);
  const prices = await currentReferencePrices(drugIds, opensAt);
  const drugs = await Drug.find({ _id: trusted({ $in: drugIds }) }).lean<{ _id: Types.ObjectId; genericNameZh: string; genericNameEn: string; dosageForm: string; specification: string; packUnit: string; manufacturer: string; nhsaCode: string; standardCode: string }[]>();
  const roundId = new Types.ObjectId();
  const lines = drugIds.map((id, i) => {
    const d = drugs.find((x) => x._id.equals(id))!;
    const referenceFen = prices.get(String(id))?.priceFen ?? 100_00;
    return {
      _id: new Types.ObjectId(),
      no: i + 1,
      drugId: id,
      drug: { genericNameZh: d.genericNameZh, genericNameEn: d.genericNameEn, dosageForm: d.dosageForm, specification: d.specification, packUnit: d.packUnit, manufacturer: d.manufacturer, nhsaCode: d.nhsaCode, standardCode: d.standardCode },
      referenceFen,
      minDecrementFen: minimumDecrementFen(referenceFen, 50),
    };
  });
  const aliases = distributors.map((d) => aliasFor(String(roundId), String(d._id)));
  const quotes: QuoteRecord[] = [];
  let seq = 0;
  lines.forEach((line, li) => {
    distributors.forEach((d, di) => {
      const bp = PAST_PRICES_BP[di]![li]!;
      const exact = li === 0 ? UROKINASE_FEN[di] : undefined;
      if (!bp && !exact) return;
      seq += 1;
      quotes.push({
        _id: new Types.ObjectId(),
        roundId,
        lineId: line._id,
        distributorOrgId: d._id,
        distributorName: d.name,
        alias: aliases[di]!,
        userId: new Types.ObjectId(actor.id),
        priceFen: exact ?? Math.max(1, Math.round((line.referenceFen * bp) / 10_000)),
        receivedAt: addHours(opensAt, 2 + seq),
        seq,
        status: 'active',
        channel: 'socket',
      });
    });
  });
  const round: RoundRecord = {
    _id: roundId,
    no: `DQ${closesAt.getUTCFullYear()}-DEMO`,
    title: PAST_TITLE,
    description: '示范数据：已截止并挂网的报价轮次。',
    status: 'published',
    lines,
    opensAt,
    closesAt,
    scheduledClosesAt: closesAt,
    visibility: 'rank',
    minDecrementBp: 50,
    antiSniping: { windowSec: 120, extendSec: 120, maxExtensions: 10 },
    extensions: 0,
    listingValidityDays: 365,
    clearlyBelowBp: 2000,
    seq,
    createdBy: new Types.ObjectId(actor.id),
    createdAt: addDays(opensAt, -1),
    updatedAt: closesAt,
    scheduledAt: addDays(opensAt, -1),
    openedAt: opensAt,
    closedAt: closesAt,
    publishedAt: closesAt,
    listingExpiresAt: addDays(closesAt, 365),
  };
  const listing = lines.flatMap((line) => rank(quotes.filter((q) => q.lineId.equals(line._id))).map((r) => listingEntry(round, line, quotes.find((q) => String(q._id) === r.quoteId)!, r.rank, closesAt, round.listingExpiresAt!)));
  round.report = roundReport(
    lines.map((l) => ({ lineId: String(l._id), referenceFen: l.referenceFen, quotes: quotes.filter((q) => q.lineId.equals(l._id)).map((q) => ({ distributorId: String(q.distributorOrgId), priceFen: q.priceFen, receivedAt: q.receivedAt })) })),
    { clearlyBelowBp: 2000 },
  );
  await Round.create([round]);
  await Participant.insertMany(distributors.map((d, i) => ({ roundId, distributorOrgId: d._id, distributorName: d.name, alias: aliases[i]!, joinedAt: opensAt })));
  await Quote.insertMany(quotes);
  await QuoteEvent.insertMany([
    { roundId, at: opensAt, type: 'opened', closesAt },
    ...quotes.map((q) => ({ roundId, at: q.receivedAt, type: 'submitted', seq: q.seq, lineId: q.lineId, lineNo: lines.find((l) => l._id.equals(q.lineId))!.no, distributorOrgId: q.distributorOrgId, distributorName: q.distributorName, alias: q.alias, quoteId: q._id, priceFen: q.priceFen, channel: q.channel })),
    { roundId, at: closesAt, type: 'closed', seq, closesAt },
    { roundId, at: closesAt, type: 'published' },
  ]);
  await Listing.insertMany(listing);
}

function startOfHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 3600_000) * 3600_000);
}

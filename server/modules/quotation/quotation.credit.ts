// What the quotation module does when the credit module sanctions a distributor: a listing
// withdrawal (特别严重失信) withdraws every current listing entry of the distributor, in one unit of
// work with the subscriber's receipt (exactly once however often the fact is delivered).
import { Types } from 'mongoose';
import { SanctionOpened } from '../../events/credit';
import { msg } from '../../platform/messages';
import { onEventInTransaction } from '../../platform/relay';
import { Listing } from './quotation.model';

export const quotationCreditSubscribers = [
  onEventInTransaction(SanctionOpened, 'quotation.withdraw-listings-of-sanctioned', async (e, uow) => {
    const p = e.payload;
    if (p.kind !== 'listing_withdrawal') return;
    const res = await Listing.updateMany(
      { distributorOrgId: new Types.ObjectId(p.orgId), status: 'listed' },
      { $set: { status: 'withdrawn', withdrawnAt: uow.at, withdrawReason: `credit sanction ${p.sanctionId}: ${p.reason}` } },
      { session: uow.session },
    );
    if (res.modifiedCount === 0) return;
    uow.audit({
      action: 'listing.withdraw_all',
      targetType: 'organisation',
      targetId: p.orgId,
      summary: msg('credit.audit.listingsWithdrawn', { count: res.modifiedCount, reason: { msg: `credit.sanction.reason.${p.reason}` } }),
    });
  }),
];

import type { Logger } from '../../platform/logger';
import { onCommand, type AppSocket } from '../../platform/realtime';
import { boardFor, loadVisibleRound, missedChanges, roomsFor } from './quotation.board';
import { submitQuote, withdrawQuote } from './quotation.quotes';
import { QuoteSubmitPayload, QuoteWithdrawPayload, RoundFollowPayload, RoundWatchPayload } from './quotation.schemas';

/**
 * Socket commands of the live board: `round:watch` joins the viewer's rooms and answers the current
 * state, with the changes after `sinceSeq` that the viewer missed (a reconnecting client sends the
 * last sequence it saw), `quote:submit` / `quote:withdraw`
 * answer like the HTTP API, `round:unwatch` leaves.
 */
export function quotationSocket(logger: Logger) {
  return (socket: AppSocket): void => {
    onCommand(socket, logger, 'round:watch', RoundFollowPayload, async ({ roundId, sinceSeq }, actor) => {
      const round = await loadVisibleRound(actor, roundId);
      // NOTE: join before reading, so no change falls between the snapshot and the live pushes;
      // the client drops pushes whose seq the snapshot already covers.
      await socket.join(roomsFor(actor, roundId));
      const current = await loadVisibleRound(actor, String(round._id));
      const board = await boardFor(actor, current);
      return sinceSeq === undefined ? board : { ...board, ...(await missedChanges(actor, current, sinceSeq)) };
    });
    onCommand(socket, logger, 'round:unwatch', RoundWatchPayload, async ({ roundId }, actor) => {
      for (const room of roomsFor(actor, roundId)) await socket.leave(room);
      return { roundId };
    });
    onCommand(socket, logger, 'quote:submit', QuoteSubmitPayload, (payload, actor) => submitQuote(actor, payload, 'socket'));
    onCommand(socket, logger, 'quote:withdraw', QuoteWithdrawPayload, (payload, actor) => withdrawQuote(actor, payload, 'socket'));
  };
}

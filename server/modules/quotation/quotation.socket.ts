import type { Logger } from '../../platform/logger';
import { onCommand, type AppSocket } from '../../platform/realtime';
import { boardFor, loadVisibleRound, roomsFor } from './quotation.board';
import { submitQuote, withdrawQuote } from './quotation.quotes';
import { QuoteSubmitPayload, QuoteWithdrawPayload, RoundWatchPayload } from './quotation.schemas';

/**
 * Socket commands of the live board: `round:watch` joins the viewer's rooms and answers the current
 * state (so a reconnecting client re-sends it and catches up), `quote:submit` / `quote:withdraw`
 * answer like the HTTP API, `round:unwatch` leaves.
 */
export function quotationSocket(logger: Logger) {
  return (socket: AppSocket): void => {
    onCommand(socket, logger, 'round:watch', RoundWatchPayload, async ({ roundId }, actor) => {
      const round = await loadVisibleRound(actor, roundId);
      // NOTE: join before reading, so no change falls between the snapshot and the live pushes;
      // the client drops pushes whose seq the snapshot already covers.
      await socket.join(roomsFor(actor, roundId));
      return boardFor(actor, await loadVisibleRound(actor, String(round._id)));
    });
    onCommand(socket, logger, 'round:unwatch', RoundWatchPayload, async ({ roundId }, actor) => {
      for (const room of roomsFor(actor, roundId)) await socket.leave(room);
      return { roundId };
    });
    onCommand(socket, logger, 'quote:submit', QuoteSubmitPayload, (payload, actor) => submitQuote(actor, payload, 'socket'));
    onCommand(socket, logger, 'quote:withdraw', QuoteWithdrawPayload, (payload, actor) => withdrawQuote(actor, payload, 'socket'));
  };
}

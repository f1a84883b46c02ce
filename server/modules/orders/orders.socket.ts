import type { Logger } from '../../platform/logger';
import { onCommand, type AppSocket } from '../../platform/realtime';
import { loadOrder } from './orders.core';
import { orderRoom } from './orders.live';
import { Shipment, type ShipmentDoc } from './orders.model';
import { WatchPayload } from './orders.schemas';
import { orderView, shipmentView } from './orders.views';

/**
 * `order:watch` joins the order's room after the same access check as HTTP (another hospital's
 * order is not found) and answers with the current state, so a reconnecting page has no gap.
 */
export function orderSocket(logger: Logger) {
  return (socket: AppSocket): void => {
    onCommand(socket, logger, 'order:watch', WatchPayload, async (p, actor) => {
      await loadOrder(actor, p.orderId);
      // NOTE: the state is read after joining: a change committed between a read and the join would
      // reach neither the answer nor the room (a page then waited for a push that never came).
      await socket.join(orderRoom(p.orderId));
      const order = await loadOrder(actor, p.orderId);
      const s = await Shipment.findOne({ orderId: order._id }).lean<ShipmentDoc>();
      return { order: orderView(order, actor.role), shipment: s ? shipmentView(s) : null };
    });
    onCommand(socket, logger, 'order:unwatch', WatchPayload, async (p) => {
      await socket.leave(orderRoom(p.orderId));
      return { ok: true as const };
    });
  };
}

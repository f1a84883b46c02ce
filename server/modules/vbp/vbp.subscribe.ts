import { wireOrders } from './vbp.orders';

/** Start-up wiring: contract prices and purchases through the orders module. */
export function vbpSubscribe(): void {
  wireOrders();
}

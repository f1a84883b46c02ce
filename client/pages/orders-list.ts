// Orders list: live updates of this organisation's orders (new orders for a distributor, status changes).
import type { OrderUpdatedPayload } from '../../server/platform/realtime.events';
import { getSocket } from '../lib/socket';
import { showToast } from '../lib/toast';
import { fill, readJson, type Messages } from './order-shared';

const m = readJson<Messages>('orders-messages', {});
const labels = readJson<{ statusLabels: Record<string, string> }>('orders-page', { statusLabels: {} }).statusLabels;
const table = document.querySelector<HTMLTableElement>('[data-orders-table]');

getSocket().on('order:updated', (e: OrderUpdatedPayload) => {
  const row = table?.querySelector<HTMLElement>(`[data-order-id="${e.orderId}"]`);
  if (row) row.dataset.stale = 'true';
  const title = e.change === 'placed' && !row ? fill(m.newOrder, { orderNo: e.orderNo }) : fill(m.updated, { orderNo: e.orderNo, status: labels[e.status] ?? e.status });
  showToast({ tone: 'info', title, href: `/orders/${e.orderId}`, linkLabel: '→', dismissLabel: '×' });
});

// Tender page: live updates while bids are open. A rank-only tender pushes each distributor its own
// rank; the operator sees each line's bid count (never prices). The page re-reads nothing else.
import { getSocket } from '../lib/socket';

interface PageData {
  tenderId: string;
  rankLabel: string;
  countLabel: string;
}

function data(): PageData | null {
  try {
    return JSON.parse(document.getElementById('vbp-tender-data')?.textContent ?? 'null') as PageData | null;
  } catch {
    return null;
  }
}

function setup(): void {
  const page = data();
  if (!page) return;
  const socket = getSocket();
  socket.on('vbp:rank', (r) => {
    if (r.tenderId !== page.tenderId) return;
    const target = document.querySelector<HTMLElement>(`[data-line-id="${CSS.escape(r.lineId)}"] [data-live-rank]`);
    if (target) target.textContent = page.rankLabel.replace('{rank}', String(r.rank)).replace('{bidders}', String(r.bidders));
  });
  socket.on('vbp:bid_count', (c) => {
    if (c.tenderId !== page.tenderId) return;
    const target = document.querySelector<HTMLElement>(`[data-line-id="${CSS.escape(c.lineId)}"] [data-bid-count]`);
    if (target) target.textContent = String(c.bids);
  });
  socket.on('vbp:tender_opened', (t) => {
    if (t.tenderId === page.tenderId) location.reload();
  });
}

setup();

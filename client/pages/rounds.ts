// Round list: a distributor hears at once when a round opens (a live heads-up; the list itself is
// the record), with a link to its board.
import { getSocket } from '../lib/socket';
import { showToast } from '../lib/toast';

const messages = (() => {
  try {
    return JSON.parse(document.getElementById('rounds-i18n')?.textContent ?? '{}') as Record<string, string>;
  } catch {
    return {} as Record<string, string>;
  }
})();

getSocket().on('round:opened', (r: { roundId: string; no: string; title: string }) => {
  if (document.querySelector(`tr[data-round-id="${CSS.escape(r.roundId)}"]`)) return;
  showToast({ tone: 'info', title: messages.opened ?? 'New round', body: `${r.no} ${r.title}`, href: `/rounds/${r.roundId}`, linkLabel: messages.view ?? '→', timeoutMs: 0 });
});

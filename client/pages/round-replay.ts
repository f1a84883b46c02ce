// Ranking replay: a slider steps through the round's events; later steps are dimmed and the
// current one scrolls into view.
const range = document.querySelector<HTMLInputElement>('[data-replay-range]');
const output = document.querySelector<HTMLOutputElement>('[data-replay-output]');
const controls = document.querySelector<HTMLElement>('[data-replay-controls]');
const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('tr[data-step]'));

function show(step: number): void {
  for (const r of rows) r.classList.toggle('is-future', Number(r.dataset.step) > step);
  if (output) output.textContent = `${step} / ${rows.length}`;
  rows[step - 1]?.scrollIntoView({ block: 'nearest' });
}

if (range && controls && rows.length) {
  controls.hidden = false;
  range.addEventListener('input', () => show(Number(range.value)));
}

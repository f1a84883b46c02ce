// A distributor's own credit page: appeal and repair forms, and live score / breach updates.
import type { CreditBreachPayload, CreditStandingPayload } from '../../server/platform/realtime.events';
import { getSocket } from '../lib/socket';
import { showToast } from '../lib/toast';
import { ct, wireCreditForms } from './credit-forms';

wireCreditForms();

const socket = getSocket();
socket.on('credit:standing_changed', (s: CreditStandingPayload) => {
  const score = document.querySelector<HTMLElement>('[data-score]');
  const grade = document.querySelector<HTMLElement>('[data-grade]');
  if (score) score.textContent = String(s.score);
  if (grade) {
    grade.textContent = s.grade;
    grade.className = `grade-big grade-${s.grade}`;
  }
});
socket.on('credit:breach_recorded', (b: CreditBreachPayload) => {
  showToast({ tone: 'warning', title: ct('breachRecorded'), body: `${b.zh}（−${b.points}）`, href: window.location.pathname, linkLabel: ct('refresh'), timeoutMs: 0, dismissLabel: ct('dismiss') });
});

// Demo mode: clicking a demo account row fills the sign-in form.
const form = document.querySelector<HTMLFormElement>('[data-login-form]');

function fill(row: HTMLElement): void {
  if (!form) return;
  const email = form.elements.namedItem('email') as HTMLInputElement | null;
  const password = form.elements.namedItem('password') as HTMLInputElement | null;
  if (!email || !password) return;
  email.value = row.dataset.email ?? '';
  password.value = row.dataset.password ?? '';
  for (const r of document.querySelectorAll('[data-demo-login].is-selected')) r.classList.remove('is-selected');
  row.classList.add('is-selected');
  form.querySelector<HTMLButtonElement>('button[type="submit"]')?.focus();
}

for (const row of document.querySelectorAll<HTMLElement>('[data-demo-login]')) {
  row.addEventListener('click', () => fill(row));
}

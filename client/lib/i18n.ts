type Messages = Record<string, string>;

let messages: Messages | undefined;

function load(): Messages {
  if (messages) return messages;
  const el = document.getElementById('client-i18n');
  try {
    messages = el?.textContent ? (JSON.parse(el.textContent) as Messages) : {};
  } catch {
    messages = {};
  }
  return messages;
}

/** The page's language ('zh' | 'en'), from the layout's `data-lang`. */
export function pageLang(): 'zh' | 'en' {
  return document.body?.dataset.lang === 'en' ? 'en' : 'zh';
}

/** A `client.*` message embedded by the layout, with `{name}` interpolation; the key when missing. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const message = load()[key];
  if (typeof message !== 'string') return key;
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

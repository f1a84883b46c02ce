import Handlebars from 'handlebars';

const UNSAFE_IN_SCRIPT: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** JSON that is safe inside `<script type="application/json">` ("</script>" cannot end the element). */
export function toScriptJson(value: unknown): string {
  return (JSON.stringify(value ?? null) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => UNSAFE_IN_SCRIPT[c] ?? c);
}

/** `{{json value}}`: emits unescaped, script-safe JSON for `<script type="application/json">`. */
export function json(value: unknown): Handlebars.SafeString {
  return new Handlebars.SafeString(toScriptJson(value));
}

import type { Options } from './types';

type FieldMap = Record<string, unknown>;

/**
 * `{{#with (formState "user")}}…{{errors.email}}…{{values.email}}…{{#if hasErrors}}…{{/with}}` on a page with several
 * forms. A form's errors are `@root.errors` keys prefixed "<form>." (prefix removed); the form marked
 * `default=true` also takes the unprefixed keys. `@root.activeForm`, when set, gives all errors to
 * that form. `@root.values` go only to the form that has errors, so the other one stays empty.
 */
export function formState(form: unknown, options: Options): { errors: FieldMap; values: FieldMap; hasErrors: boolean } {
  const root = options.data?.root ?? {};
  const allErrors = root.errors && typeof root.errors === 'object' ? (root.errors as FieldMap) : {};
  const prefix = `${String(form)}.`;
  const isDefault = options.hash?.default === true;
  const activeForm = typeof root.activeForm === 'string' ? root.activeForm : undefined;
  const errors: FieldMap = {};
  for (const [key, message] of Object.entries(allErrors)) {
    if (key.startsWith(prefix)) errors[key.slice(prefix.length)] = message;
    else if (activeForm === form || (activeForm === undefined && isDefault && !/^\w+\.\w/.test(key))) errors[key] = message;
  }
  const active = activeForm === undefined ? Object.keys(errors).length > 0 : activeForm === form;
  const values = active && root.values && typeof root.values === 'object' ? (root.values as FieldMap) : {};
  return { errors, values, hasErrors: Object.keys(errors).length > 0 };
}

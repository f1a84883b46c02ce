import type { HelperOptions } from 'handlebars';

/** The `@root` fields every page and text template is rendered with. */
export interface RootData {
  lang?: string;
  [key: string]: unknown;
}

/** The last argument Handlebars passes to every helper. */
export type Options = HelperOptions & { data?: { root?: RootData } };

export function rootLang(options: Options | undefined): string | undefined {
  return options?.data?.root?.lang;
}

import { formatDateTime } from './formatters';
import type { Options } from './types';

/** `{{datetime value}}` → "2025-01-02 08:30" in Asia/Shanghai; `seconds=true` adds ":ss". */
export function datetime(value: unknown, options?: Options): string {
  return formatDateTime(value, options?.hash?.seconds === true);
}

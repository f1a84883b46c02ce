import { formatDate } from './formatters';

/** `{{date value}}` → "2025-01-02" in Asia/Shanghai; accepts a Date or an ISO string. */
export function date(value: unknown): string {
  return formatDate(value);
}

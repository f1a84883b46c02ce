import type { Router } from 'express';

/** HTML pages of the finance module. */
export function financePages(router: Router): void {
  void router;
}

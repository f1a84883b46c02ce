import type { Router } from 'express';
export function dashboardPages(_router: Router): void {}

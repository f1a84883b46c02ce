import type { Router } from 'express';

export function quotationPages(_router: Router): void {}

import type { Router } from 'express';

export function orderPages(_router: Router): void {}

import type { Router } from 'express';

export function vbpPages(_router: Router): void {}

import { z } from 'zod';

export const Id = z.string().regex(/^[a-f0-9]{24}$/);
export const Instant = z.iso.datetime({ offset: true });
export const Fen = z.number().int();

// Facts of the identity module. Each is committed with the change it states.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Id } from './common';

/** A session was signed out: its token stops working everywhere (caches of it are dropped). */
export const SessionRevoked = defineEvent('identity.session_revoked', z.object({ sessionId: z.string().min(1).max(200), userId: Id }).strict());

/** A user joined an organisation (remembered notification recipients of it are dropped). */
export const UserCreated = defineEvent('identity.user_created', z.object({ userId: Id, orgId: Id, role: z.string().min(1).max(50) }).strict());

// The shape of a feature module as the app sees it: its index.ts declares everything it plugs in
// (routes, pages, socket handlers, jobs, event subscribers, sweeps, demo data), and
// server/modules/registry.ts lists the modules. Nothing is registered by importing a file.
import type { Router } from 'express';
import type { ForwardedHandler } from './forwarding';
import type { ApiRouter } from './http';
import type { Logger } from './logger';
import type { JobHandler } from './queues';
import type { AppSocket, SocketModule } from './realtime';
import type { Subscriber } from './relay';
import type { Sweep } from './sweeps';

export interface FeatureModule {
  name: string;
  api?: (api: ApiRouter) => void;
  pages?: (router: Router) => void;
  socket?: (logger: Logger) => SocketModule;
  /** Runs for every authenticated socket connection (e.g. send the current state). */
  onConnect?: (socket: AppSocket) => Promise<void>;
  /** One handler per job the module declares. */
  jobs?: JobHandler[];
  /** What the module does when an event (its own or another module's) is committed. */
  subscribers?: Subscriber[];
  /** What the module does for requests other processes forward to this one (e.g. quotes to a round's owner). */
  forwarded?: ForwardedHandler[];
  /** Recurring reconciliation run by the worker processes (what is due according to the database). */
  sweeps?: Sweep[];
  /**
   * Brings documents stored by an older version up to date at start-up (e.g. backfills a new field);
   * idempotent, and safe when several processes start at once. Runs in registry order, before serving.
   */
  migrate?: (logger: Logger) => Promise<void>;
  /** Loads the module's demo data (idempotent); modules run in registry order. */
  demo?: (logger: Logger) => Promise<void>;
}

/** Declares a feature module (keeps the declaration typed at its site). */
export function defineModule(m: FeatureModule): FeatureModule {
  return m;
}

// Whether the database can be used right now, from the driver's own view of its server (heartbeats
// and connection failures), so a request fails at once with 503 instead of waiting out the driver's
// server-selection timeout while the database is down, and /readyz says so within a heartbeat.
import type { MongoClient } from 'mongodb';
import type { Logger } from './logger';

type Listener = (up: boolean) => void;

export class DbHealth {
  private upNow = true;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly logger: Logger) {}

  get up(): boolean {
    return this.upNow;
  }

  /**
   * Follows the client's topology: up while a writable server is known. A dead server's connections
   * close at once, so the driver marks it unknown within milliseconds; it is found again by the next
   * heartbeat (every `heartbeatFrequencyMS`).
   */
  watch(client: MongoClient): void {
    client.on('topologyDescriptionChanged', (e: { newDescription: { servers: Map<string, { type: string }> } }) => {
      const writable = [...e.newDescription.servers.values()].some((s) => s.type === 'Standalone' || s.type === 'RSPrimary' || s.type === 'Mongos' || s.type === 'LoadBalancer');
      this.set(writable);
    });
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  set(up: boolean): void {
    if (up === this.upNow) return;
    this.upNow = up;
    this.logger[up ? 'info' : 'warn']({ database: up ? 'up' : 'down' }, up ? 'database is back' : 'database is unavailable');
    for (const fn of this.listeners) fn(up);
  }
}

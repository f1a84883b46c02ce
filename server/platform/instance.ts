import { randomBytes } from 'node:crypto';

/**
 * This process's identity among the processes of a deployment: the pid (for people reading Redis)
 * and a random part (a pid is reused by the next process, and processes on other hosts share pids).
 * Held leases, liveness keys and forwarding channels carry it.
 */
export const INSTANCE = `${process.pid}-${randomBytes(6).toString('hex')}`;

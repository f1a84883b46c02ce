// The CPUs a process may run on, as Linux writes them (`Cpus_allowed_list`: "0-3,6"), and the ones
// background work should keep to so that the event loop has a core of its own.
import { readFileSync } from 'node:fs';

/** "0-3,6" → [0, 1, 2, 3, 6]; throws on anything else. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (to < from) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    for (let cpu = from; cpu <= to; cpu += 1) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0, 1, 2, 3, 6] → "0,1,2,3,6" (the form `taskset --cpu-list` takes). */
export function formatCpuList(cpus: readonly number[]): string {
  return cpus.join(',');
}

/**
 * The CPUs background work keeps to: every allowed CPU but the first, which stays to the event loops;
 * null with a single CPU (nothing to spare, the work keeps its low priority only).
 */
export function spareCpus(allowed: readonly number[]): number[] | null {
  return allowed.length >= 2 ? allowed.slice(1) : null;
}

/** The CPUs this process (or one of its threads) may run on, from /proc; null off Linux. */
export function allowedCpus(pid: number | 'self' = 'self', tid?: number): number[] | null {
  try {
    const status = readFileSync(tid === undefined ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`, 'utf8');
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1];
    return list ? parseCpuList(list) : null;
  } catch {
    return null;
  }
}

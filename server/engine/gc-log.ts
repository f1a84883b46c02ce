// The engine process's garbage-collection pauses, as V8 reports them (perf_hooks 'gc' entries),
// kept in a bounded ring so serverStatus can say which pauses a client's slow reply overlapped.
import { PerformanceObserver, constants } from 'node:perf_hooks';

export interface GcPause {
  /** wall-clock start, ms since the epoch (comparable with another process's Date.now()) */
  at: number;
  ms: number;
  kind: 'scavenge' | 'mark-compact' | 'incremental' | 'weak' | 'other';
}

const KEEP = 4096;
const ring: GcPause[] = [];
let observer: PerformanceObserver | null = null;

function kindOf(k: number): GcPause['kind'] {
  if (k === constants.NODE_PERFORMANCE_GC_MINOR) return 'scavenge';
  if (k === constants.NODE_PERFORMANCE_GC_MAJOR) return 'mark-compact';
  if (k === constants.NODE_PERFORMANCE_GC_INCREMENTAL) return 'incremental';
  if (k === constants.NODE_PERFORMANCE_GC_WEAKCB) return 'weak';
  return 'other';
}

/** Starts recording (once per process). */
export function recordGcPauses(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as unknown as { detail?: { kind?: number } }).detail;
      ring.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: kindOf(detail?.kind ?? -1) });
    }
    if (ring.length > KEEP) ring.splice(0, ring.length - KEEP);
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** Pauses that started at or after `since` (epoch ms). */
export function gcPausesSince(since: number): GcPause[] {
  return ring.filter((p) => p.at >= since);
}

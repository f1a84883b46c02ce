/** A benchmark figure next to the baseline measured in the same run. */
export interface BenchRow {
  /** what is measured, e.g. "engine: indexed find by _id @100k" */
  name: string;
  value: number;
  unit: string;
  /** what it is compared against, e.g. "in-process Map get" */
  baselineName: string;
  baseline: number;
  /** value / baseline, or baseline / value when lower is better; say which in `ratioNote` */
  ratio: number;
  ratioNote?: string;
}

/** A benchmark file's default export. */
export type Bench = () => Promise<BenchRow[]>;

/** Percentile of a list of numbers (nearest-rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs `fn` repeatedly for `ms` milliseconds (at least `minOps` times) and returns ops/s. */
export async function opsPerSecond(fn: (i: number) => Promise<unknown> | unknown, ms = 1000, minOps = 50): Promise<number> {
  const start = performance.now();
  let ops = 0;
  while (performance.now() - start < ms || ops < minOps) {
    await fn(ops);
    ops += 1;
  }
  return ops / ((performance.now() - start) / 1000);
}

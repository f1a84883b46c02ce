// An ordered multiset on a comparator: a list of sorted chunks (like Python's sortedcontainers).
// Insert / delete / seek are O(log n + chunk size); iteration from any position is sequential.

const CHUNK = 512;

export class SortedList<T> {
  private chunks: T[][] = [];
  private maxes: T[] = [];
  private count = 0;

  constructor(readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.chunks = [];
    this.maxes = [];
    this.count = 0;
  }

  /** Index of the first chunk whose max is >= x (or the last chunk). */
  private chunkFor(x: T, strict = false): number {
    let lo = 0;
    let hi = this.maxes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.cmp(this.maxes[mid]!, x);
      if (strict ? c <= 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static bisect<T>(arr: T[], x: T, cmp: (a: T, b: T) => number, right: boolean): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cmp(arr[mid]!, x);
      if (right ? c <= 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(x: T): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([x]);
      this.maxes.push(x);
      return;
    }
    let ci = this.chunkFor(x, true);
    if (ci === this.chunks.length) ci--;
    const chunk = this.chunks[ci]!;
    const pos = SortedList.bisect(chunk, x, this.cmp, true);
    chunk.splice(pos, 0, x);
    this.maxes[ci] = chunk[chunk.length - 1]!;
    if (chunk.length > CHUNK * 2) {
      const half = chunk.splice(CHUNK);
      this.chunks.splice(ci + 1, 0, half);
      this.maxes[ci] = chunk[chunk.length - 1]!;
      this.maxes.splice(ci + 1, 0, half[half.length - 1]!);
    }
  }

  /** Removes one element comparing equal to x; returns whether one was found. */
  delete(x: T): boolean {
    const ci = this.chunkFor(x);
    if (ci === this.chunks.length) return false;
    const chunk = this.chunks[ci]!;
    const pos = SortedList.bisect(chunk, x, this.cmp, false);
    if (pos >= chunk.length || this.cmp(chunk[pos]!, x) !== 0) return false;
    chunk.splice(pos, 1);
    this.count--;
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1);
      this.maxes.splice(ci, 1);
    } else {
      this.maxes[ci] = chunk[chunk.length - 1]!;
      if (chunk.length < CHUNK / 4 && ci + 1 < this.chunks.length) {
        const next = this.chunks[ci + 1]!;
        chunk.push(...next);
        this.chunks.splice(ci + 1, 1);
        this.maxes.splice(ci + 1, 1);
        this.maxes[ci] = chunk[chunk.length - 1]!;
      }
    }
    return true;
  }

  /** Iterates elements >= from (or > from when exclusive), in order. */
  *from(probe: T, exclusive = false): Generator<T> {
    let ci = this.chunkFor(probe, exclusive);
    if (ci >= this.chunks.length) return;
    let pos = SortedList.bisect(this.chunks[ci]!, probe, this.cmp, exclusive);
    while (ci < this.chunks.length) {
      const chunk = this.chunks[ci]!;
      for (; pos < chunk.length; pos++) yield chunk[pos]!;
      ci++;
      pos = 0;
    }
  }

  /** Iterates elements <= probe (or < probe when exclusive), in descending order. */
  *downFrom(probe: T, exclusive = false): Generator<T> {
    let ci = this.chunkFor(probe, !exclusive);
    if (ci >= this.chunks.length) ci = this.chunks.length - 1;
    if (ci < 0) return;
    let pos = SortedList.bisect(this.chunks[ci]!, probe, this.cmp, !exclusive) - 1;
    while (ci >= 0) {
      const chunk = this.chunks[ci]!;
      for (; pos >= 0; pos--) yield chunk[pos]!;
      ci--;
      if (ci >= 0) pos = this.chunks[ci]!.length - 1;
    }
  }

  *[Symbol.iterator](): Generator<T> {
    for (const c of this.chunks) yield* c;
  }

  *reversed(): Generator<T> {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i]!;
      for (let j = c.length - 1; j >= 0; j--) yield c[j]!;
    }
  }
}

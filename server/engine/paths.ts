// Dotted paths over documents with MongoDB's implicit array traversal.
import { isPlainObject } from './values';

/** Values reached by a dotted path, with MongoDB's implicit array traversal. `undefined` = missing. */
export function pathValues(doc: unknown, parts: string[]): unknown[] {
  const out: unknown[] = [];
  collect(doc, parts, 0, out);
  return out;
}

function collect(cur: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    out.push(cur);
    return;
  }
  const seg = parts[i]!;
  if (Array.isArray(cur)) {
    const isIdx = /^\d+$/.test(seg);
    if (isIdx) {
      const idx = Number(seg);
      if (idx < cur.length) collect(cur[idx], parts, i + 1, out);
      else out.push(undefined);
      return;
    }
    if (cur.length === 0) {
      out.push(undefined);
      return;
    }
    for (const el of cur) {
      if (isPlainObject(el)) collect(el, parts, i, out);
      else if (Array.isArray(el)) continue;
      else out.push(undefined);
    }
    return;
  }
  if (isPlainObject(cur)) {
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) {
      out.push(undefined);
      return;
    }
    collect(cur[seg], parts, i + 1, out);
    return;
  }
  out.push(undefined);
}


// Where a bench's time goes: a CPU profile of this process (node:inspector) or of a child started with
// --cpu-prof, reduced to the functions with the most self time. Benches print `profileLines(...)`.
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  startTime: number;
  endTime: number;
}
export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Runs `work` under this process's CPU profiler and returns its result with the profile. */
export async function profiled<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** The `n` functions with the most self time; idle, program and GC are kept as their own rows. */
export function topEntries(profile: CpuProfile, n = 8): ProfileEntry[] {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const samples = profile.samples ?? [];
  const perSampleMs = samples.length ? totalMs / samples.length : 0;
  const hits = new Map<number, number>();
  if (samples.length) for (const id of samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  const byName = new Map<string, ProfileEntry>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (!count) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = byName.get(key) ?? { name, where, selfMs: 0, share: 0 };
    entry.selfMs += count * perSampleMs;
    byName.set(key, entry);
  }
  const entries = [...byName.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, n);
  for (const e of entries) e.share = totalMs ? e.selfMs / totalMs : 0;
  return entries;
}

export function profileLines(title: string, profile: CpuProfile, n = 8): string {
  const rows = topEntries(profile, n).map(
    (e) => `  ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.name}${e.where ? `  (${e.where})` : ''}`,
  );
  return [`${title}: top self time (node --cpu-prof)`, ...rows].join('\n');
}

function shortUrl(url: string): string {
  const cut = url.indexOf('/node_modules/');
  if (cut >= 0) return url.slice(cut + 1);
  const here = url.lastIndexOf('/server/');
  if (here >= 0) return url.slice(here + 1);
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

import type { Store } from './store';
export async function openPersistence(_store: Store, _dir: string, _opts: { fsync: 'always' | 'batch' | 'never'; log: (m: string) => void }): Promise<{ close(): Promise<void>; durable(): Promise<void> }> {
  throw new Error('persistence not implemented yet');
}

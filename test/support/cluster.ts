// One multi-process cluster (engine, web processes, workers: see processes.ts) for a describe block:
// started before its tests with a signed-in operator, its sockets closed after each test, stopped
// after the block. Uses the mocha hooks, so bench/ must not import it.
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Socket } from 'socket.io-client';
import { testApp } from './global';
import { createClusterUser, seedOperator, signClusterCommitment, socketAt, startCluster, type AppProcess, type Cluster, type ClusterOptions, type ClusterUser } from './processes';

/** The Redis this test run already uses (REDIS_URL, the default port, or the one the run started). */
export function redisOfTestRun(): string {
  const { host, port } = testApp().platform.redis.options;
  return process.env.REDIS_URL ?? `redis://${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/** What `useCluster` gives the tests of its block (read it inside hooks and tests, not at definition). */
export interface ClusterFixture {
  readonly cluster: Cluster;
  /** this process's connection to the cluster's database */
  readonly db: Connection;
  /** the cluster's first operator, signed in */
  readonly operator: ClusterUser;
  /** A socket of `user` on `proc`; it is disconnected after the test. */
  connect(proc: AppProcess, user: ClusterUser): Promise<Socket>;
  /** A distributor in a new organisation that has signed the commitment, so it may quote. */
  tradingDistributor(orgPrefix?: string): Promise<ClusterUser>;
}

/**
 * Starts a cluster in a `before` hook of the calling describe block and stops it in an `after` hook.
 * `options` may be a function, evaluated in the hook (for a Redis an earlier hook started); Redis
 * defaults to the test run's.
 */
export function useCluster(options: ClusterOptions | (() => ClusterOptions)): ClusterFixture {
  let cluster: Cluster | undefined;
  let db: Connection | undefined;
  let operator: ClusterUser | undefined;
  const sockets: Socket[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useCluster: the ${what} is only there once the before hook ran`);
    return value;
  };

  before(async function () {
    this.timeout(240_000);
    const opts = typeof options === 'function' ? options() : options;
    cluster = await startCluster({ ...opts, redisUrl: opts.redisUrl ?? redisOfTestRun() });
    db = await cluster.db();
    operator = await seedOperator(cluster);
  });

  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });

  after(async function () {
    this.timeout(60_000);
    for (const s of sockets.splice(0)) s.disconnect();
    await cluster?.stop();
  });

  return {
    get cluster() {
      return ready(cluster, 'cluster');
    },
    get db() {
      return ready(db, 'database connection');
    },
    get operator() {
      return ready(operator, 'operator');
    },
    async connect(proc, user) {
      const socket = await socketAt(proc, user.token);
      sockets.push(socket);
      return socket;
    },
    async tradingDistributor(orgPrefix = '配送企业') {
      const c = ready(cluster, 'cluster');
      const op = ready(operator, 'operator');
      const d = await createClusterUser(c, op, 'distributor', { orgName: `${orgPrefix}-${randomBytes(4).toString('hex')}` });
      await signClusterCommitment(op, d);
      return d;
    },
  };
}

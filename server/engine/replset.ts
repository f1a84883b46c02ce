// The engine presents itself as the primary of a one-node replica set (as mongod started with
// --replSet and initiated): cluster time and operation time on every reply, the replica-set
// fields of hello, and the status/config commands tools read. A one-node set never elects, so
// term, election id and set version are constants.
import { Binary, Long, ObjectId, Timestamp } from 'bson';
import type { Doc } from './values';

export const DEFAULT_SET_NAME = 'rs0';
const TERM = Long.fromNumber(1);

export class ReplSet {
  readonly electionId = new ObjectId('7fffffff0000000000000001');
  readonly startedAt = new Date();
  private t = 0;
  private i = 0;
  private last = new Timestamp({ t: 0, i: 0 });
  private lastDoc: Doc | null = null;
  lastWriteDate = new Date();

  constructor(readonly setName: string = DEFAULT_SET_NAME) {
    this.tick();
  }

  /** A new, strictly increasing operation time (one per committed change set). */
  tick(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.t) {
      this.t = now;
      this.i = 1;
    } else this.i++;
    this.last = new Timestamp({ t: this.t, i: this.i });
    this.lastDoc = null;
    this.lastWriteDate = new Date();
    return this.last;
  }

  get opTime(): Timestamp {
    return this.last;
  }

  /** `$clusterTime` as mongod gossips it (unsigned: the engine has no keys). */
  clusterTime(): Doc {
    this.lastDoc ??= { clusterTime: this.last, signature: { hash: new Binary(Buffer.alloc(20), 0), keyId: Long.ZERO } };
    return this.lastDoc;
  }

  helloFields(me: string): Doc {
    const opTime = { ts: this.last, t: TERM };
    return {
      hosts: [me],
      setName: this.setName,
      setVersion: 1,
      secondary: false,
      primary: me,
      me,
      electionId: this.electionId,
      lastWrite: { opTime, lastWriteDate: this.lastWriteDate, majorityOpTime: opTime, majorityWriteDate: this.lastWriteDate },
    };
  }

  status(me: string): Doc {
    const opTime = { ts: this.last, t: TERM };
    return {
      set: this.setName,
      date: new Date(),
      myState: 1,
      term: TERM,
      heartbeatIntervalMillis: Long.fromNumber(2000),
      optimes: { lastCommittedOpTime: opTime, appliedOpTime: opTime, durableOpTime: opTime },
      members: [
        {
          _id: 0,
          name: me,
          health: 1,
          state: 1,
          stateStr: 'PRIMARY',
          uptime: Math.floor((Date.now() - this.startedAt.getTime()) / 1000),
          optime: opTime,
          optimeDate: this.lastWriteDate,
          electionDate: this.startedAt,
          self: true,
        },
      ],
    };
  }

  config(me: string): Doc {
    return { _id: this.setName, version: 1, term: 1, protocolVersion: Long.fromNumber(1), members: [{ _id: 0, host: me, arbiterOnly: false, hidden: false, priority: 1, votes: 1 }], settings: {} };
  }
}

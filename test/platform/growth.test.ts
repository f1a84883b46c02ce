import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { runMigrations } from '../../server/boot';
import { Drug } from '../../server/modules/catalogue';
import { Organisation } from '../../server/modules/identity';
import { notifyUsers } from '../../server/modules/notifications';
import { createLogger } from '../../server/platform/logger';
import { msg } from '../../server/platform/messages';
import { nameSearchKeys } from '../../server/platform/search';
import { buildUser } from '../support/factories';
import { testClock } from '../support/global';

const DAY = 24 * 3600_000;
const db = () => mongoose.connection.db!;

async function indexes(collection: string): Promise<{ key: Record<string, number>; expireAfterSeconds?: number }[]> {
  return (await db().collection(collection).indexes()) as { key: Record<string, number>; expireAfterSeconds?: number }[];
}

describe('growth: search keys backfilled at start-up, hot lists indexed, read notifications expire', () => {
  it('the start-up migration gives documents stored without search keys their keys, once', async () => {
    const at = testClock.now();
    const orgId = new Types.ObjectId();
    const drugId = new Types.ObjectId();
    const notificationId = new Types.ObjectId();
    const readAt = new Date(at.getTime() - 5 * DAY);
    // Documents as an older version stored them (written past the models, so no hook adds the keys).
    await db().collection('organisations').insertOne({ _id: orgId, name: `尿激酶医院${orgId}`, type: 'hospital', hospitalLevel: 2, active: true, createdAt: at, updatedAt: at });
    await db().collection('drugs').insertOne({
      _id: drugId, genericNameZh: '注射用尿激酶', genericNameEn: 'Urokinase', dosageForm: '注射剂', formClass: 'small_volume_injection', specification: '10万单位', packUnit: '支',
      manufacturer: '旧版制药', nhsaCode: `OLD${drugId}`, standardCode: `OLD${drugId}`, tracePrefix: `OLD${drugId}`, categories: { shortage: true, vbp: false, regular: false },
      active: true, searchText: '注射用尿激酶 urokinase', createdAt: at, updatedAt: at,
    });
    const userId = new Types.ObjectId();
    await db().collection('users').insertOne({ _id: userId, orgId, email: `old-${userId}@test.gpo`, name: '尿激酶药师', role: 'pharmacist', passwordHash: 'x', disabled: false, createdAt: at, updatedAt: at });
    await db().collection('notifications').insertOne({ _id: notificationId, userId: new Types.ObjectId(), orgId, kind: 'test', title: 'x', body: 'y', createdAt: readAt, readAt });

    await runMigrations(createLogger('silent', 'test'));
    const org = await Organisation.findById(orgId).lean<{ nameInitials: string; namePinyin: string; updatedAt: Date }>();
    expect(org).to.include(nameSearchKeys(`尿激酶医院${orgId}`));
    expect(org!.nameInitials.startsWith('njmyy')).to.equal(true);
    const drug = await Drug.findById(drugId).lean<{ nameInitials: string; namePinyin: string }>();
    expect(drug).to.include({ nameInitials: 'zsynjm', namePinyin: 'zhusheyongniaojimei' });
    expect(await db().collection('users').findOne({ _id: userId })).to.include({ nameInitials: 'njmys', namePinyin: 'niaojimeiyaoshi' });
    const note = await db().collection('notifications').findOne({ _id: notificationId });
    expect(note!.expiresAt.getTime()).to.equal(readAt.getTime() + 90 * DAY);

    // Idempotent: a second run changes nothing that is already right.
    await db().collection('organisations').updateOne({ _id: orgId }, { $set: { nameInitials: 'kept' } });
    await runMigrations(createLogger('silent', 'test'));
    expect((await Organisation.findById(orgId).lean<{ nameInitials: string }>())!.nameInitials).to.equal('kept');
  });

  it('indexes the search keys, the hot lists and the notifications expiry (a TTL index)', async () => {
    const has = (list: { key: Record<string, number> }[], key: Record<string, number>) => list.some((i) => JSON.stringify(i.key) === JSON.stringify(key));
    const drugs = await indexes('drugs');
    expect(has(drugs, { nameInitials: 1 }) && has(drugs, { namePinyin: 1 }) && has(drugs, { genericNameZh: 1, _id: 1 })).to.equal(true);
    const orgs = await indexes('organisations');
    expect(has(orgs, { nameInitials: 1 }) && has(orgs, { namePinyin: 1 }) && has(orgs, { name: 1 })).to.equal(true);
    const users = await indexes('users');
    expect(has(users, { createdAt: -1, _id: -1 }) && has(users, { nameInitials: 1 }) && has(users, { namePinyin: 1 })).to.equal(true);
    const notes = await indexes('notifications');
    expect(has(notes, { userId: 1, createdAt: -1, _id: -1 })).to.equal(true);
    const ttl = notes.find((i) => JSON.stringify(i.key) === JSON.stringify({ expiresAt: 1 }));
    expect(ttl?.expireAfterSeconds).to.equal(0);
  });

  it('a notification expires 90 days after it is read (one or all), and not before it is read', async () => {
    const user = await buildUser('pharmacist');
    const recipient = { _id: new Types.ObjectId(user.id), orgId: new Types.ObjectId(user.org.id) };
    for (const n of [1, 2, 3]) await notifyUsers([recipient], { kind: 'test', title: msg('notifications.title'), body: msg('notifications.title'), dedupeKey: `growth-${user.id}-${n}` });
    const stored = await db().collection('notifications').find({ userId: recipient._id }).toArray();
    expect(stored).to.have.length(3);
    expect(stored.every((n) => n.expiresAt === undefined)).to.equal(true);

    const readAt = testClock.now();
    await user.api().post(`/api/v1/notifications/${String(stored[0]!._id)}/read`).expect(200);
    const one = await db().collection('notifications').findOne({ _id: stored[0]!._id });
    expect(one!.readAt.getTime()).to.be.at.least(readAt.getTime()).and.below(readAt.getTime() + 60_000);
    expect(one!.expiresAt.getTime() - one!.readAt.getTime()).to.equal(90 * DAY);

    testClock.advance(3600_000);
    await user.api().post('/api/v1/notifications/read-all').expect(200);
    const rest = await db().collection('notifications').find({ userId: recipient._id, _id: { $ne: stored[0]!._id } }).toArray();
    for (const n of rest) {
      expect(n.readAt.getTime()).to.be.at.least(readAt.getTime() + 3600_000);
      expect(n.expiresAt.getTime() - n.readAt.getTime()).to.equal(90 * DAY);
    }
    expect(rest).to.have.length(2);
  });
});

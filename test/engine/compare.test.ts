// The engine's BSON order for ObjectIds: by their bytes, the same as by their hex strings.
import { expect } from 'chai';
import { ObjectId } from 'bson';
import { compareValues } from '../../server/engine/compare';

describe('engine: ObjectId order', () => {
  it('orders ObjectIds by their bytes, as their hex strings order, whichever way they were made', () => {
    const hex = (n: number) => Array.from({ length: 24 }, (_, i) => '0123456789abcdef'[(n * 7 + i * (n % 5 + 3)) % 16]).join('');
    const ids = [
      ...Array.from({ length: 60 }, (_, n) => new ObjectId(hex(n))),
      ...Array.from({ length: 20 }, () => new ObjectId()),
      new ObjectId('000000000000000000000000'),
      new ObjectId('ffffffffffffffffffffffff'),
      new ObjectId('7fffffffffffffffffffffff'),
      new ObjectId('800000000000000000000000'),
    ];
    ids.push(...ids.slice(0, 10).map((id) => new ObjectId(id.id)));
    for (const a of ids) {
      for (const b of ids) {
        const byHex = a.toHexString() < b.toHexString() ? -1 : a.toHexString() > b.toHexString() ? 1 : 0;
        expect(compareValues(a, b), `${a.toHexString()} vs ${b.toHexString()}`).to.equal(byHex);
      }
    }
  });
});

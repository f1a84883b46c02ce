// BSON type numbers ($type, type names in errors and aggregation).
import { bsonTypeName, numType } from './values';

export function bsonTypeNumber(v: unknown): number {
  if (v === undefined) return 6;
  if (v === null) return 10;
  switch (typeof v) {
    case 'string':
      return 2;
    case 'boolean':
      return 8;
    case 'number':
    case 'bigint':
      return numType(v) === 'int' ? 16 : 1;
  }
  if (Array.isArray(v)) return 4;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp) return 11;
  switch (bsonTypeName(v)) {
    case 'ObjectId':
      return 7;
    case 'Double':
      return 1;
    case 'Int32':
      return 16;
    case 'Long':
      return 18;
    case 'Decimal128':
      return 19;
    case 'Binary':
      return 5;
    case 'Timestamp':
      return 17;
    case 'BSONRegExp':
      return 11;
    case 'BSONSymbol':
      return 14;
    case 'Code':
      return 13;
    case 'MinKey':
      return -1;
    case 'MaxKey':
      return 127;
  }
  return 3;
}


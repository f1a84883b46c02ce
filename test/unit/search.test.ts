import { expect } from 'chai';
import { classifySearch, escapeRegex, nameInitials, namePinyin, nameSearchKeys, searchFilter } from '../../server/platform/search';

/** The plain JSON of a filter (trusted() marks operators with a symbol JSON leaves out). */
const plain = (f: unknown) => JSON.parse(JSON.stringify(f)) as { $or: Record<string, { $regex: string; $options?: string }>[] };

describe('search: pinyin keys and safe filters (platform/search.ts)', () => {
  it('derives lower-case pinyin initials of a Chinese name', () => {
    expect(nameInitials('尿激酶')).to.equal('njm');
    expect(nameInitials('注射用尿激酶')).to.equal('zsynjm');
    expect(nameInitials('广州医药有限公司')).to.equal('gzyyyxgs');
  });

  it('reads polyphonic characters in their word (重庆银行 is chong qing yin hang)', () => {
    expect(nameInitials('重庆银行')).to.equal('cqyh');
    expect(namePinyin('重庆银行')).to.equal('chongqingyinhang');
  });

  it('derives full pinyin without tones or spaces', () => {
    expect(namePinyin('尿激酶')).to.equal('niaojimei');
    expect(nameSearchKeys('阿莫西林')).to.deep.equal({ nameInitials: 'amxl', namePinyin: 'amoxilin' });
  });

  it('keeps letters and digits of a mixed name and drops punctuation and spaces', () => {
    expect(nameInitials('阿莫西林胶囊 0.25g')).to.equal('amxljn025g');
    expect(nameInitials('X射线')).to.equal('xsx');
    expect(namePinyin('维生素B12')).to.equal('weishengsub12');
  });

  it('escapes every regular-expression metacharacter', () => {
    const nasty = 'a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o';
    const re = new RegExp(`^${escapeRegex(nasty)}$`);
    expect(re.test(nasty)).to.equal(true);
    expect(re.test('aXb*c+d?e^f$g{h}i(j)k|l[m]n\\o')).to.equal(false);
    expect(new RegExp(escapeRegex('.*')).test('abc')).to.equal(false);
  });

  it('classifies input: empty, Chinese fragment, Latin (initials, pinyin, code), mixed', () => {
    expect(classifySearch('   ')).to.deep.equal({ kind: 'empty' });
    expect(classifySearch(undefined)).to.deep.equal({ kind: 'empty' });
    expect(classifySearch(' 尿激酶 ')).to.deep.equal({ kind: 'name', text: '尿激酶' });
    expect(classifySearch('NJM')).to.deep.equal({ kind: 'latin', text: 'NJM', compact: 'njm' });
    expect(classifySearch('niao ji')).to.deep.equal({ kind: 'latin', text: 'niao ji', compact: 'niaoji' });
    expect(classifySearch('zsy尿')).to.deep.equal({ kind: 'mixed', text: 'zsy尿', initials: 'zsyn' });
    // Full-width letters (a Chinese input method) count as Latin.
    expect(classifySearch('ｎｊｍ')).to.deep.equal({ kind: 'latin', text: 'njm', compact: 'njm' });
  });

  it('gives no filter for empty input', () => {
    expect(searchFilter('', { name: 'name' })).to.equal(null);
  });

  it('matches a Chinese fragment anywhere in the name, literally', () => {
    const f = plain(searchFilter('尿激酶(', { name: 'name' }));
    expect(f.$or).to.deep.equal([{ name: { $regex: '尿激酶\\(' } }]);
  });

  it('matches Latin input as anchored initials and pinyin prefixes, a code prefix and an English fragment', () => {
    const f = plain(searchFilter('Njm', { name: 'genericNameZh', text: 'searchText', codes: ['nhsaCode'] }));
    expect(f.$or).to.deep.equal([
      { nameInitials: { $regex: '^njm' } },
      { namePinyin: { $regex: '^njm' } },
      { searchText: { $regex: 'njm' } },
      { nhsaCode: { $regex: '^NJM' } },
    ]);
  });

  it('matches a name case-insensitively when the collection keeps no lower-cased text', () => {
    const f = plain(searchFilter('Bank', { name: 'name' }));
    expect(f.$or[2]).to.deep.equal({ name: { $regex: 'Bank', $options: 'i' } });
  });

  it('matches mixed input as the name fragment or as initials with the Chinese turned into initials', () => {
    const f = plain(searchFilter('zsy尿', { name: 'name' }));
    expect(f.$or).to.deep.equal([{ name: { $regex: 'zsy尿' } }, { nameInitials: { $regex: '^zsyn' } }]);
  });

  it('turns a pattern typed as input into a literal (no wildcard matches everything)', () => {
    const f = plain(searchFilter('.*', { name: 'name', codes: ['code'] }));
    // ".*" has no letters or digits: it is a name fragment, escaped.
    expect(f.$or).to.deep.equal([{ name: { $regex: '\\.\\*' } }]);
    const g = plain(searchFilter('a.*', { name: 'name', codes: ['code'] }));
    expect(g.$or.map((c) => Object.values(c)[0]!.$regex)).to.deep.equal(['^a', '^a', 'a\\.\\*', '^A\\.\\*']);
  });
});

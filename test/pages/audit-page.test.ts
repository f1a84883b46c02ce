import { expect } from 'chai';
import request from 'supertest';
import { buildTradingDistributor } from '../support/credit-factories';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';
import { buildOpenRound, quote } from '../support/quotation-factories';

function cellsText(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('audit log in the reader\'s language', () => {
  it('shows action names (not codes) and summaries in the page language, times in Beijing time', async () => {
    const operator = await buildUser('operator');
    const get = (lang: string) => request(testApp().url).get(`/admin/audit?lang=${lang}&action=auth.login`).set('Authorization', `Bearer ${operator.token}`).set('Accept', 'text/html');
    const zh = cellsText((await get('zh')).text);
    const en = cellsText((await get('en')).text);
    expect(zh).to.include('登录');
    expect(en).to.include('Sign-in');
    expect(zh).to.not.include('auth.login ');
    expect(en).to.not.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/);
  });

  it('writes the round audit CSV\'s event column in the reader\'s language', async () => {
    const operator = await buildUser('operator');
    const round = await buildOpenRound({ referenceFen: 289_000 });
    const d = await buildTradingDistributor();
    await quote(d, round.id, round.lines[0]!.lineId, 250_000);
    const csv = (lang: string) => request(testApp().url).get(`/api/v1/rounds/${round.id}/events.csv`).set('Authorization', `Bearer ${operator.token}`).set('Accept-Language', lang);
    const en = (await csv('en')).text;
    const zh = (await csv('zh-CN')).text;
    expect(en).to.include('Event').and.include('Quote');
    expect(en).to.not.include('submitted');
    expect(zh).to.include('事件').and.include('报价');
  });
});

import { expect } from 'chai';
import { renderPdf, type PdfKit } from '../../server/platform/pdf';
import { extractPdfText, pdfPageCount } from '../support/pdf-text';

const issuedAt = new Date('2025-03-01T02:00:00Z');

function drawAnnouncement(doc: PDFKit.PDFDocument, kit: PdfKit, lineCount = 3): void {
  kit.heading('短缺药品报价结果公告');
  kit.paragraph('现将本轮短缺药品报价结果公告如下。');
  kit.keyValues([
    ['轮次', 'R-2025-001'],
    ['发布日期', kit.date(issuedAt)],
  ]);
  const rows = Array.from({ length: lineCount }, (_, i) => [String(i + 1), i === 0 ? '注射用尿激酶' : `药品 ${i + 1}`, kit.money(289000), kit.money(195000)]);
  kit.table({
    columns: [{ header: '序号', align: 'center' }, { header: '通用名' }, { header: '参考价', align: 'right' }, { header: '挂网价', align: 'right' }],
    rows,
  });
  kit.signatureBlock([{ title: '甲方（医院）', name: '清远市人民医院' }, { title: '丙方（平台）', name: '清远市医疗保障局' }]);
}

describe('pdf platform', function () {
  this.timeout(20000);

  it('embeds a CJK font so Chinese text and CNY amounts read back from the PDF', async () => {
    const buf = await renderPdf({ title: '公告', date: issuedAt }, (doc, kit) => drawAnnouncement(doc, kit));
    const text = await extractPdfText(buf);
    expect(text).to.include('注射用尿激酶');
    expect(text).to.include('¥1,950.00');
    expect(text).to.include('¥2,890.00');
    expect(text).to.include('第 1 页 / 共 1 页');
    expect(buf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    // NOTE: the font is subset: the whole TTF is over 10 MB.
    expect(buf.length).to.be.below(200_000);
  });

  it('renders the same input to byte-identical PDFs, and a different document date to different bytes', async () => {
    const draw = (doc: PDFKit.PDFDocument, kit: PdfKit) => drawAnnouncement(doc, kit, 40);
    const first = await renderPdf({ title: '公告', author: '清远市医疗保障局', date: issuedAt }, draw);
    await new Promise((r) => setTimeout(r, 15));
    const second = await renderPdf({ title: '公告', author: '清远市医疗保障局', date: new Date(issuedAt) }, draw);
    expect(first.equals(second)).to.equal(true);
    const later = await renderPdf({ title: '公告', author: '清远市医疗保障局', date: new Date('2025-03-02T02:00:00Z') }, draw);
    expect(later.equals(first)).to.equal(false);
  });

  it('breaks a long table across pages, repeating its header and numbering every page', async () => {
    const buf = await renderPdf({ title: '公告', date: issuedAt }, (doc, kit) => drawAnnouncement(doc, kit, 120));
    const pages = await pdfPageCount(buf);
    expect(pages).to.be.greaterThan(2);
    const text = await extractPdfText(buf);
    expect(text.split('参考价').length - 1).to.equal(pages);
    for (let page = 1; page <= pages; page += 1) expect(text).to.include(`第 ${page} 页 / 共 ${pages} 页`);
    expect(text).to.include('药品 120');
  });

  it('writes English footers for lang en', async () => {
    const buf = await renderPdf({ title: 'Statement', date: issuedAt, lang: 'en' }, (_doc, kit) => {
      kit.heading('Financing statement');
      kit.keyValues([['Outstanding', kit.money(123456)]]);
    });
    const text = await extractPdfText(buf);
    expect(text).to.include('Page 1 of 1');
    expect(text).to.include('¥1,234.56');
  });

  it('rejects when the drawing callback throws', async () => {
    let caught: unknown;
    try {
      await renderPdf({ title: 'x', date: issuedAt }, () => {
        throw new Error('draw failed');
      });
    } catch (err) {
      caught = err;
    }
    expect((caught as Error)?.message).to.equal('draw failed');
  });
});

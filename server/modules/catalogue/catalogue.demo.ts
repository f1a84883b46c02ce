// The demo catalogue: shortage and common drugs of a Chinese city hospital formulary, with codes of
// the right formats (fictional but valid: check digits, matching enterprise codes, unique prefixes).
import type { Logger } from '../../platform/logger';
import { parseYuanToFen } from '../../platform/money';
import { trusted } from '../../platform/mongo';
import { parseBusinessDay } from '../../platform/time';
import { withCommand } from '../../platform/unit-of-work';
import { generateValidGtin13, gs1CheckDigit } from './catalogue.codes';
import { Drug } from './catalogue.model';
import type { FormClass } from './catalogue.model';
import { insertDrugs, type ImportableDrug } from './catalogue.service';

interface DemoDrug {
  key: string;
  zh: string;
  en: string;
  form: string;
  formClass: FormClass;
  spec: string;
  unit: string;
  maker: string;
  /** Five-digit enterprise code shared by the NHSA code and the 本位码. */
  enterprise: string;
  atc: string;
  referenceYuan: string;
  shortage?: boolean;
  vbp?: boolean;
  regular?: boolean;
}

const DOSAGE_FORM_CODES: Record<string, string> = { 注射剂: 'A002', 片剂: 'A001', 胶囊剂: 'A003', 注射用无菌粉末: 'A004' };

export const DEMO_DRUGS: DemoDrug[] = [
  { key: 'urokinase', zh: '注射用尿激酶', en: 'Urokinase for Injection', form: '注射用无菌粉末', formClass: 'small_volume_injection', spec: '100,000 单位', unit: '瓶', maker: '天津生物化学制药有限公司', enterprise: '00483', atc: 'B01AD', referenceYuan: '2890.00', shortage: true },
  { key: 'protamine', zh: '硫酸鱼精蛋白注射液', en: 'Protamine Sulfate Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '5ml:50mg', unit: '支', maker: '上海第一生化药业有限公司', enterprise: '00594', atc: 'V03AB', referenceYuan: '68.50', shortage: true },
  { key: 'deslanoside', zh: '去乙酰毛花苷注射液', en: 'Deslanoside Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '2ml:0.4mg', unit: '支', maker: '上海旭东海普药业有限公司', enterprise: '00144', atc: 'C01AA', referenceYuan: '12.80', shortage: true },
  { key: 'penicillin', zh: '注射用青霉素钠', en: 'Benzylpenicillin Sodium for Injection', form: '注射用无菌粉末', formClass: 'small_volume_injection', spec: '80万单位', unit: '瓶', maker: '华北制药股份有限公司', enterprise: '01110', atc: 'J01CE', referenceYuan: '0.86', shortage: true, regular: true },
  { key: 'dopamine', zh: '盐酸多巴胺注射液', en: 'Dopamine Hydrochloride Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '2ml:20mg', unit: '支', maker: '远大医药（中国）有限公司', enterprise: '02237', atc: 'C01CA', referenceYuan: '4.20', shortage: true },
  { key: 'nitroglycerin', zh: '硝酸甘油注射液', en: 'Nitroglycerin Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:5mg', unit: '支', maker: '北京益民药业有限公司', enterprise: '01329', atc: 'C01DA', referenceYuan: '6.90', shortage: true },
  { key: 'thiamazole', zh: '甲巯咪唑片', en: 'Thiamazole Tablets', form: '片剂', formClass: 'oral_solid', spec: '10mg×50片', unit: '盒', maker: '北京市燕京药业有限公司', enterprise: '01408', atc: 'H03BB', referenceYuan: '24.60', shortage: true },
  { key: 'digoxin', zh: '地高辛片', en: 'Digoxin Tablets', form: '片剂', formClass: 'oral_solid', spec: '0.25mg×100片', unit: '瓶', maker: '上海信谊药厂有限公司', enterprise: '00614', atc: 'C01AA', referenceYuan: '18.30', shortage: true },
  { key: 'dactinomycin', zh: '注射用放线菌素D', en: 'Dactinomycin for Injection', form: '注射用无菌粉末', formClass: 'small_volume_injection', spec: '0.2mg', unit: '瓶', maker: '浙江海正药业股份有限公司', enterprise: '02745', atc: 'L01DA', referenceYuan: '312.00', shortage: true },
  { key: 'mercaptopurine', zh: '巯嘌呤片', en: 'Mercaptopurine Tablets', form: '片剂', formClass: 'oral_solid', spec: '50mg×100片', unit: '瓶', maker: '浙江九旭药业有限公司', enterprise: '02816', atc: 'L01BB', referenceYuan: '95.00', shortage: true },
  { key: 'pralidoxime', zh: '碘解磷定注射液', en: 'Pralidoxime Iodide Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '20ml:0.5g', unit: '支', maker: '天津金耀药业有限公司', enterprise: '00511', atc: 'V03AB', referenceYuan: '15.70', shortage: true },
  { key: 'naloxone', zh: '盐酸纳洛酮注射液', en: 'Naloxone Hydrochloride Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:0.4mg', unit: '支', maker: '北京华素制药股份有限公司', enterprise: '01522', atc: 'V03AB', referenceYuan: '21.40', regular: true },
  { key: 'vitk1', zh: '维生素K1注射液', en: 'Phytomenadione Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:10mg', unit: '支', maker: '上海禾丰制药有限公司', enterprise: '00633', atc: 'B02BA', referenceYuan: '3.10', shortage: true },
  { key: 'polymyxin', zh: '注射用硫酸多黏菌素B', en: 'Polymyxin B Sulfate for Injection', form: '注射用无菌粉末', formClass: 'small_volume_injection', spec: '50万单位', unit: '瓶', maker: '上海上药第一生化药业有限公司', enterprise: '00595', atc: 'J01XB', referenceYuan: '198.00', shortage: true },
  { key: 'kcl', zh: '氯化钾注射液', en: 'Potassium Chloride Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '10ml:1.5g', unit: '支', maker: '华润双鹤药业股份有限公司', enterprise: '01302', atc: 'B05XA', referenceYuan: '0.95', regular: true },
  { key: 'glucose', zh: '葡萄糖注射液', en: 'Glucose Injection', form: '注射剂', formClass: 'large_volume_injection', spec: '500ml:25g', unit: '袋', maker: '四川科伦药业股份有限公司', enterprise: '03109', atc: 'B05BA', referenceYuan: '3.60', regular: true },
  { key: 'nacl', zh: '氯化钠注射液', en: 'Sodium Chloride Injection', form: '注射剂', formClass: 'large_volume_injection', spec: '500ml:4.5g', unit: '袋', maker: '石家庄四药有限公司', enterprise: '01245', atc: 'B05BB', referenceYuan: '3.20', regular: true },
  { key: 'amoxicillin', zh: '阿莫西林胶囊', en: 'Amoxicillin Capsules', form: '胶囊剂', formClass: 'oral_solid', spec: '0.25g×24粒', unit: '盒', maker: '珠海联邦制药股份有限公司', enterprise: '02901', atc: 'J01CA', referenceYuan: '9.80', vbp: true, regular: true },
  { key: 'dimercaprol', zh: '二巯丙醇注射液', en: 'Dimercaprol Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '2ml:0.2g', unit: '支', maker: '上海朝晖药业有限公司', enterprise: '00652', atc: 'V03AB', referenceYuan: '45.00', shortage: true },
  { key: 'methylene-blue', zh: '亚甲蓝注射液', en: 'Methylthioninium Chloride Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '2ml:20mg', unit: '支', maker: '济川药业集团有限公司', enterprise: '02458', atc: 'V03AB', referenceYuan: '28.00', shortage: true },
  { key: 'ptu', zh: '丙硫氧嘧啶片', en: 'Propylthiouracil Tablets', form: '片剂', formClass: 'oral_solid', spec: '50mg×100片', unit: '瓶', maker: '上海朝晖药业有限公司', enterprise: '00653', atc: 'H03BA', referenceYuan: '16.50', shortage: true },
  { key: 'bleomycin-a5', zh: '注射用盐酸平阳霉素', en: 'Bleomycin A5 Hydrochloride for Injection', form: '注射用无菌粉末', formClass: 'small_volume_injection', spec: '8mg', unit: '瓶', maker: '哈药集团制药总厂', enterprise: '02173', atc: 'L01DC', referenceYuan: '58.00', shortage: true },
  { key: 'phenobarbital', zh: '苯巴比妥钠注射液', en: 'Phenobarbital Sodium Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:0.1g', unit: '支', maker: '上海新亚药业有限公司', enterprise: '00672', atc: 'N03AA', referenceYuan: '2.50', shortage: true },
  { key: 'atropine', zh: '硫酸阿托品注射液', en: 'Atropine Sulfate Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:0.5mg', unit: '支', maker: '天津金耀药业有限公司', enterprise: '00512', atc: 'A03BA', referenceYuan: '1.80', shortage: true },
  { key: 'epinephrine', zh: '盐酸肾上腺素注射液', en: 'Epinephrine Hydrochloride Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:1mg', unit: '支', maker: '远大医药（中国）有限公司', enterprise: '02238', atc: 'C01CA', referenceYuan: '2.30', shortage: true },
  { key: 'oxytocin', zh: '缩宫素注射液', en: 'Oxytocin Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '1ml:10单位', unit: '支', maker: '马鞍山丰原制药有限公司', enterprise: '03301', atc: 'H01BB', referenceYuan: '3.90', shortage: true },
  { key: 'tranexamic', zh: '氨甲环酸注射液', en: 'Tranexamic Acid Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '5ml:0.5g', unit: '支', maker: '广东华南药业集团有限公司', enterprise: '02055', atc: 'B02AA', referenceYuan: '5.60', regular: true },
  { key: 'mgso4', zh: '硫酸镁注射液', en: 'Magnesium Sulfate Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '10ml:2.5g', unit: '支', maker: '上海信谊金朱药业有限公司', enterprise: '00615', atc: 'B05XA', referenceYuan: '1.40', shortage: true },
  { key: 'metformin', zh: '盐酸二甲双胍片', en: 'Metformin Hydrochloride Tablets', form: '片剂', formClass: 'oral_solid', spec: '0.5g×60片', unit: '盒', maker: '中美上海施贵宝制药有限公司', enterprise: '00701', atc: 'A10BA', referenceYuan: '12.60', vbp: true },
  { key: 'atorvastatin', zh: '阿托伐他汀钙片', en: 'Atorvastatin Calcium Tablets', form: '片剂', formClass: 'oral_solid', spec: '20mg×7片', unit: '盒', maker: '北京嘉林药业股份有限公司', enterprise: '01590', atc: 'C10AA', referenceYuan: '8.40', vbp: true },
  { key: 'phenytoin', zh: '苯妥英钠片', en: 'Phenytoin Sodium Tablets', form: '片剂', formClass: 'oral_solid', spec: '0.1g×100片', unit: '瓶', maker: '山西云鹏制药有限公司', enterprise: '03012', atc: 'N03AB', referenceYuan: '19.90', shortage: true },
  { key: 'heparin', zh: '肝素钠注射液', en: 'Heparin Sodium Injection', form: '注射剂', formClass: 'small_volume_injection', spec: '2ml:12500单位', unit: '支', maker: '常州千红生化制药股份有限公司', enterprise: '02614', atc: 'B01AB', referenceYuan: '17.50', shortage: true, regular: true },
];

/** The contract-shaped fields of a demo drug with its generated codes (index gives unique codes). */
export function demoDrugFields(d: DemoDrug, index: number): ImportableDrug {
  const nameCode = `D${String(101 + index * 7).padStart(3, '0')}`;
  const formCode = DOSAGE_FORM_CODES[d.form] ?? 'A009';
  const nhsaCode = `X${d.atc}${nameCode}${formCode}0101${d.enterprise}`;
  const standardBody = `869${d.enterprise}${String(10 + index).padStart(5, '0')}`;
  return {
    genericNameZh: d.zh,
    genericNameEn: d.en,
    dosageForm: d.form,
    formClass: d.formClass,
    specification: d.spec,
    packUnit: d.unit,
    manufacturer: d.maker,
    nhsaCode,
    standardCode: standardBody + gs1CheckDigit(standardBody),
    gtin: generateValidGtin13(420_000 + index),
    tracePrefix: String(8_100_000 + index * 13),
    categories: { shortage: !!d.shortage, vbp: !!d.vbp, regular: !!d.regular },
    referencePriceFen: parseYuanToFen(d.referenceYuan),
    effectiveFrom: parseBusinessDay('2026-01-01'),
  };
}

/** Seeds the demo catalogue once; drugs already present (by demo key) are left as they are. */
export async function seedDemoCatalogue(logger: Logger): Promise<void> {
  const present = new Set(((await Drug.find({ demoKey: trusted({ $type: 'string' }) }, { demoKey: 1 }).lean()) as { demoKey: string }[]).map((d) => d.demoKey));
  const missing = DEMO_DRUGS.map((d, i) => ({ d, i })).filter(({ d }) => !present.has(`demo:${d.key}`));
  if (missing.length === 0) return;
  await withCommand(null, (uow) =>
    insertDrugs(
      uow,
      missing.map(({ d, i }) => demoDrugFields(d, i)),
      missing.map(({ d }) => ({ demoKey: `demo:${d.key}` })),
    ),
  );
  logger.info({ drugs: missing.length }, 'demo catalogue seeded');
}

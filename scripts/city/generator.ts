// A city like the one the platform follows (seed 000, Qingyuan 2020–21), drawn deterministically from
// a seed and a scale: 160 institutions of levels 1–3 with their banks, ~40 distributors, 25 banks,
// ~2,000 drugs of which 274 are shortage drugs with reference prices, the quarterly quotation rounds
// (each distributor's opening and final quote per line), one VBP cycle, and the yearly purchase
// volume (~1.6 bn yuan) spread over the hospitals by level. Pure: no I/O, no clock.
import { gs1CheckDigit, generateValidGtin13 } from '../../server/modules/catalogue/catalogue.codes';

/** Facts of the model city at scale 1 (DESIGN.md §3.10, /work/shared/research). */
export const MODEL_CITY = {
  institutions: 160,
  distributors: 40,
  banks: 25,
  drugs: 2000,
  shortageDrugs: 274,
  clearlyBelow: 44,
  vbpDrugs: 40,
  yearlyPurchaseFen: 1_600_000_000_00,
  guaranteeLinesFen: 1_850_000_000_00,
  averageReductionBp: 1229,
  urokinase: { referenceFen: 289_000, bestFen: 195_000 },
} as const;

/** mulberry32 over a 32-bit hash of the seed: small, fast and the same on every machine. */
export class Rng {
  private state: number;
  constructor(seed: string) {
    let h = 1779033703 ^ seed.length;
    for (let i = 0; i < seed.length; i += 1) {
      h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    this.state = h >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** Index drawn with the given weights. */
  weighted(weights: readonly number[], total = weights.reduce((a, b) => a + b, 0)): number {
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i += 1) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
  /** Poisson-distributed count (Knuth for small means, normal approximation above 30). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k += 1;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
  normal(): number {
    const u = Math.max(1e-12, this.next());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** What one order line is worth on average (fen), and the most units one line orders. */
export const LINE_VALUE_FEN = 3_000_00;
export const MAX_LINE_QTY = 120;

export type Level = 1 | 2 | 3;
export type FormClass = 'oral_solid' | 'small_volume_injection' | 'large_volume_injection' | 'other';

export interface CityHospital {
  no: number;
  name: string;
  level: Level;
  address: string;
  pharmacistEmail: string;
  financeEmail: string;
  bank: number;
  /** share of the city's purchases */
  weight: number;
  lineFen: number;
  /** insurance prepayment per month as a share of its expected monthly purchases (some run short) */
  prepaymentCover: number;
}

export interface CityDistributor {
  no: number;
  name: string;
  email: string;
  /** chance that an order it receives misses a deadline (late confirmation or late delivery) */
  missRate: number;
}

export interface CityBank {
  no: number;
  name: string;
  email: string;
  annualRateBp: number;
}

export interface CityDrug {
  no: number;
  genericNameZh: string;
  genericNameEn: string;
  dosageForm: string;
  formClass: FormClass;
  specification: string;
  packUnit: string;
  manufacturer: string;
  nhsaCode: string;
  standardCode: string;
  gtin: string;
  tracePrefix: string;
  kind: 'shortage' | 'vbp' | 'regular';
  referenceFen: number;
  /** relative ordering frequency */
  weight: number;
}

export interface RoundQuote {
  distributor: number;
  openingFen: number;
  finalFen: number;
}

export interface CityRound {
  no: number;
  /** simulated day (0-based) the round opens; it closes the same day */
  day: number;
  drugs: number[];
  /** per drug (same order), the distributors quoting it */
  quotes: RoundQuote[][];
}

export interface CityVbp {
  declarationDay: number;
  deadlineDay: number;
  tenderClosesDay: number;
  drugs: number[];
  ceilingsFen: number[];
  /** per drug, the distributors bidding and their price */
  bids: { distributor: number; priceFen: number }[][];
}

export interface City {
  seed: string;
  scale: number;
  months: number;
  domain: string;
  password: string;
  operator: { orgName: string; email: string; name: string };
  banks: CityBank[];
  hospitals: CityHospital[];
  distributors: CityDistributor[];
  drugs: CityDrug[];
  rounds: CityRound[];
  vbp: CityVbp;
  yearlyPurchaseFen: number;
  /** expected value of one order line (fen), used to turn money into order counts */
  lineValueFen: number;
  /** the expected reduction of the cheapest listing against reference, value-weighted, in bp */
  expectedReductionBp: number;
}

const COUNTIES = ['清城区', '清新区', '英德市', '连州市', '佛冈县', '阳山县', '连山壮族瑶族自治县', '连南瑶族自治县'];
const TOWNS = ['东城', '凤城', '洲心', '横荷', '源潭', '龙塘', '石角', '飞来峡', '太和', '山塘', '三坑', '禾云', '浸潭', '石潭', '大站', '连江口', '黎溪', '望埠', '西牛', '九龙', '石牯塘', '英城', '大湾', '保安', '星子', '龙坪', '东陂', '丰阳', '汤塘', '石角', '水头', '迳头', '七拱', '杜步', '黎埠', '小江', '吉田', '福堂', '太保', '三江', '寨岗', '大麦山'];
const BANKS = ['清远农村商业银行', '中国工商银行清远分行', '中国农业银行清远分行', '中国银行清远分行', '中国建设银行清远分行', '交通银行清远分行', '中国邮政储蓄银行清远分行', '招商银行清远分行', '广发银行清远分行', '兴业银行清远分行', '中信银行清远分行', '平安银行清远分行', '光大银行清远分行', '民生银行清远分行', '浦发银行清远分行', '华夏银行清远分行', '广州银行清远分行', '南粤银行清远分行', '华兴银行清远分行', '英德农村商业银行', '连州农村商业银行', '佛冈农村商业银行', '阳山农村商业银行', '清新农村商业银行', '连南农村信用社'];
const DISTRIBUTOR_STEMS = ['华南', '岭南', '北江', '康达', '广药', '国药控股', '九州通', '华润', '上药', '粤北', '清远', '英德', '连州', '同德', '康美', '大参林', '嘉事堂', '天和', '恒福', '仁和'];
const DISTRIBUTOR_KINDS = ['医药有限公司', '医药配送有限公司', '药业物流有限公司', '医药供应链有限公司'];
const DRUG_STEMS = [
  ['尿激酶', 'Urokinase'], ['去甲肾上腺素', 'Norepinephrine'], ['肝素钠', 'Heparin Sodium'], ['阿托品', 'Atropine'], ['鱼精蛋白', 'Protamine'], ['硝酸甘油', 'Nitroglycerin'],
  ['多巴胺', 'Dopamine'], ['间羟胺', 'Metaraminol'], ['维生素K1', 'Vitamin K1'], ['新斯的明', 'Neostigmine'], ['氯解磷定', 'Pralidoxime Chloride'], ['地高辛', 'Digoxin'],
  ['青霉素', 'Penicillin'], ['阿莫西林', 'Amoxicillin'], ['头孢呋辛', 'Cefuroxime'], ['头孢曲松', 'Ceftriaxone'], ['左氧氟沙星', 'Levofloxacin'], ['甲硝唑', 'Metronidazole'],
  ['氨氯地平', 'Amlodipine'], ['硝苯地平', 'Nifedipine'], ['二甲双胍', 'Metformin'], ['阿托伐他汀', 'Atorvastatin'], ['瑞舒伐他汀', 'Rosuvastatin'], ['氯吡格雷', 'Clopidogrel'],
  ['奥美拉唑', 'Omeprazole'], ['泮托拉唑', 'Pantoprazole'], ['布洛芬', 'Ibuprofen'], ['对乙酰氨基酚', 'Paracetamol'], ['地塞米松', 'Dexamethasone'], ['甲泼尼龙', 'Methylprednisolone'],
  ['氯化钾', 'Potassium Chloride'], ['葡萄糖酸钙', 'Calcium Gluconate'], ['碳酸氢钠', 'Sodium Bicarbonate'], ['氯化钠', 'Sodium Chloride'], ['葡萄糖', 'Glucose'], ['呋塞米', 'Furosemide'],
  ['胰岛素', 'Insulin'], ['缩宫素', 'Oxytocin'], ['利多卡因', 'Lidocaine'], ['咪达唑仑', 'Midazolam'], ['丙泊酚', 'Propofol'], ['氨茶碱', 'Aminophylline'],
];
const FORMS: { form: string; formClass: FormClass; spec: string[]; unit: string; zhSuffix: string; enSuffix: string }[] = [
  { form: '注射剂', formClass: 'small_volume_injection', spec: ['1ml:2mg', '2ml:10mg', '1ml:5000单位', '10万单位', '5ml:0.1g'], unit: '支', zhSuffix: '注射液', enSuffix: 'Injection' },
  { form: '注射剂', formClass: 'large_volume_injection', spec: ['250ml:2.25g', '500ml:25g', '100ml:0.2g'], unit: '袋', zhSuffix: '输液', enSuffix: 'Infusion' },
  { form: '片剂', formClass: 'oral_solid', spec: ['10mg*28片', '0.5g*30片', '20mg*14片', '5mg*7片'], unit: '盒', zhSuffix: '片', enSuffix: 'Tablets' },
  { form: '胶囊剂', formClass: 'oral_solid', spec: ['0.25g*24粒', '20mg*14粒'], unit: '盒', zhSuffix: '胶囊', enSuffix: 'Capsules' },
  { form: '颗粒剂', formClass: 'other', spec: ['10g*10袋', '5g*12袋'], unit: '盒', zhSuffix: '颗粒', enSuffix: 'Granules' },
];
const MAKERS = ['广州白云山制药', '华北制药', '石药集团', '齐鲁制药', '扬子江药业', '恒瑞医药', '上海信谊', '天津金耀', '丽珠医药', '广东众生药业', '哈药集团', '东北制药'];

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** How many of a thing the city has at `scale`, never fewer than `min`. */
export function scaled(full: number, scale: number, min: number): number {
  return Math.max(min, Math.round(full * scale));
}

/** The seed's three-digit label (seed 0 → "000"), used in e-mail domains. */
export function seedLabel(seed: string): string {
  return /^\d+$/.test(seed) ? pad(Number(seed), 3) : seed.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12) || 'x';
}

/** The whole city for a seed and scale; `months` decides when the rounds and the VBP cycle fall. */
export function generateCity(opts: { seed: string; scale: number; months: number }): City {
  const { seed, scale } = opts;
  const months = Math.max(1, Math.floor(opts.months));
  const rng = new Rng(`city:${seed}`);
  const label = seedLabel(seed);
  const domain = `city${label}.gpo`;
  const password = `city-${label}-gpo`;

  const banks: CityBank[] = Array.from({ length: Math.min(BANKS.length, scaled(MODEL_CITY.banks, scale, 2)) }, (_, i) => ({
    no: i + 1,
    name: BANKS[i]!,
    email: `bank${i + 1}@${domain}`,
    annualRateBp: 385 + rng.int(0, 12) * 5,
  }));

  const nHospitals = scaled(MODEL_CITY.institutions, scale, 3);
  // NOTE: Qingyuan's 160 institutions are mostly level 1 (township health centres); the tertiary
  // hospitals are few but buy most of the drugs.
  const levels: Level[] = Array.from({ length: nHospitals }, (_, i) => (i === 0 ? 3 : i === 1 ? 2 : i === 2 ? 1 : rng.chance(0.08) ? 3 : rng.chance(0.3) ? 2 : 1));
  const levelWeight: Record<Level, number> = { 3: 14, 2: 4, 1: 0.6 };
  const rawWeights = levels.map((l) => levelWeight[l] * (0.6 + rng.next() * 0.8));
  const totalWeight = rawWeights.reduce((a, b) => a + b, 0);
  const levelNames: Record<Level, string[]> = { 3: ['人民医院', '中医院', '妇幼保健院'], 2: ['人民医院', '中医院', '第二人民医院'], 1: ['卫生院', '社区卫生服务中心'] };
  const used = new Set<string>();
  const hospitals: CityHospital[] = levels.map((level, i) => {
    const county = COUNTIES[i % COUNTIES.length]!;
    let name = '';
    for (let k = 0; !name || used.has(name); k += 1) {
      name = level === 1 ? `${county}${rng.pick(TOWNS)}镇${rng.pick(levelNames[1])}` : `${county}${rng.pick(levelNames[level])}`;
      if (k > 3) name = `${name.replace(/(医院|卫生院|中心)$/, '')}第${i + 1}分院`;
    }
    used.add(name);
    const weight = rawWeights[i]! / totalWeight;
    return {
      no: i + 1,
      name,
      level,
      address: `广东省清远市${county}${rng.pick(TOWNS)}路${rng.int(1, 300)}号`,
      pharmacistEmail: `pharm${i + 1}@${domain}`,
      financeEmail: `finance${i + 1}@${domain}`,
      bank: i % banks.length,
      weight,
      lineFen: Math.round((MODEL_CITY.guaranteeLinesFen * scale * weight) / 100_00) * 100_00 || 100_000_00,
      // NOTE: about 40 m of 1.6 bn was lent: most accounts cover their invoices, a few run short.
      prepaymentCover: i === 2 || rng.chance(0.12) ? 0.5 + rng.next() * 0.2 : 1.05 + rng.next() * 0.2,
    };
  });

  const nDistributors = scaled(MODEL_CITY.distributors, scale, 3);
  const distributors: CityDistributor[] = Array.from({ length: nDistributors }, (_, i) => ({
    no: i + 1,
    name: `清远${DISTRIBUTOR_STEMS[i % DISTRIBUTOR_STEMS.length]}${i >= DISTRIBUTOR_STEMS.length ? pad(Math.floor(i / DISTRIBUTOR_STEMS.length) + 1, 2) : ''}${DISTRIBUTOR_KINDS[i % DISTRIBUTOR_KINDS.length]}`,
    email: `dist${i + 1}@${domain}`,
    // NOTE: a small realistic rate of missed deadlines, higher for a few careless firms.
    missRate: i % 7 === 3 ? 0.02 : 0.003,
  }));

  const nDrugs = scaled(MODEL_CITY.drugs, scale, 30);
  const nShortage = Math.min(nDrugs - 4, scaled(MODEL_CITY.shortageDrugs, scale, 8));
  const nVbp = Math.min(nDrugs - nShortage - 2, scaled(MODEL_CITY.vbpDrugs, scale, 2));
  const enterprise = (i: number) => pad(10_000 + ((i * 7919) % 90_000), 5);
  const label7 = Number.parseInt(label.replace(/\D/g, '') || '0', 10) % 100;
  const drugs: CityDrug[] = Array.from({ length: nDrugs }, (_, i) => {
    const kind: CityDrug['kind'] = i < nShortage ? 'shortage' : i < nShortage + nVbp ? 'vbp' : 'regular';
    const f = i === 0 ? FORMS[0]! : kind === 'vbp' ? FORMS[2 + (i % 2)]! : rng.pick(FORMS);
    const [zh, en] = i === 0 ? DRUG_STEMS[0]! : DRUG_STEMS[i % DRUG_STEMS.length]!;
    const variant = Math.floor(i / DRUG_STEMS.length);
    const spec = i === 0 ? '10万单位' : rng.pick(f.spec);
    // NOTE: prices per traded unit (a box or a middle pack, one traceability code each) from ¥30 to
    // ¥3,000; cheaper units would mean millions more codes a year for the same money.
    const referenceFen = i === 0 ? MODEL_CITY.urokinase.referenceFen : Math.round(Math.exp(Math.log(3000) + rng.next() * Math.log(100)) / 10) * 10;
    const ent = enterprise(i + 1);
    const body = `869${ent}${pad((i * 37 + label7) % 100_000, 5)}`;
    return {
      no: i + 1,
      genericNameZh: i === 0 ? '注射用尿激酶' : `${zh}${f.zhSuffix}${variant ? `（${variant + 1}）` : ''}`,
      genericNameEn: i === 0 ? 'Urokinase for Injection' : `${en} ${f.enSuffix}${variant ? ` (${variant + 1})` : ''}`,
      dosageForm: f.form,
      formClass: f.formClass,
      specification: spec,
      packUnit: f.unit,
      manufacturer: `${rng.pick(MAKERS)}有限公司`,
      nhsaCode: `XB01AD${`D${pad(i % 1000, 3)}`}A0020101${ent}`,
      standardCode: body + gs1CheckDigit(body),
      gtin: generateValidGtin13(700_000_000 + label7 * 100_000 + i),
      tracePrefix: String(4_000_000 + label7 * 50_000 + i),
      kind,
      referenceFen,
      // NOTE: cheap everyday drugs are ordered more often than dear ones.
      weight: (kind === 'regular' ? 0.6 : 1) * (0.3 + rng.next()) * (300_00 / referenceFen) ** 0.25,
    };
  });

  const days = monthsToDays(months);
  const shortage = drugs.filter((d) => d.kind === 'shortage').map((d) => d.no - 1);
  const half = Math.ceil(shortage.length / 2);
  // NOTE: two rounds cover the shortage list (the model city's two rounds), then it is quoted again
  // each quarter; a short run fits both rounds into its first month.
  const roundDays = months <= 1 ? [1, 8] : Array.from({ length: Math.max(2, Math.ceil(months / 3) + 1) }, (_, q) => (q === 0 ? 1 : q === 1 ? 8 : (q - 1) * 91 + 1)).filter((d) => d < days);
  // Each line's best quote: about one line in six clearly below reference (20–40 %, urokinase at its
  // real ¥2,890 → ¥1,950), the others a few percent under, scaled so that the value-weighted
  // reduction of what hospitals buy from the listings is the model city's 12.29 %.
  const nClear = Math.max(1, Math.round((shortage.length * MODEL_CITY.clearlyBelow) / MODEL_CITY.shortageDrugs));
  const clear = new Set(shortage.slice(0, nClear));
  const bestReduction = new Map<number, number>();
  for (const d of shortage) bestReduction.set(d, d === 0 ? 1 - MODEL_CITY.urokinase.bestFen / MODEL_CITY.urokinase.referenceFen : clear.has(d) ? 0.2 + rng.next() * 0.2 : 0.02 + rng.next() * 0.1);
  // NOTE: an order line is worth about LINE_VALUE_FEN whatever the unit price (the quantity follows the
  // price, from one unit up to MAX_LINE_QTY), so a drug's share of the money is its ordering weight.
  const valueWeight = (d: number) => drugs[d]!.weight * Math.min(MAX_LINE_QTY * drugs[d]!.referenceFen, Math.max(drugs[d]!.referenceFen, LINE_VALUE_FEN));
  const weighted = (f: (d: number) => number) => shortage.reduce((a, d) => a + valueWeight(d) * f(d), 0) / shortage.reduce((a, d) => a + valueWeight(d), 0);
  const others = shortage.filter((d) => !clear.has(d));
  const totalValue = shortage.reduce((a, d) => a + valueWeight(d), 0);
  const fixedPart = [...clear].reduce((a, d) => a + valueWeight(d) * bestReduction.get(d)!, 0);
  const factor = others.length ? ((MODEL_CITY.averageReductionBp / 10_000) * totalValue - fixedPart) / others.reduce((a, d) => a + valueWeight(d) * bestReduction.get(d)!, 0) : 1;
  // NOTE: in a very small city the clearly-below lines alone can pass the target; the others keep at least 0.5 %.
  for (const d of others) bestReduction.set(d, Math.min(0.19, Math.max(0.005, bestReduction.get(d)! * factor)));
  const expectedReductionBp = Math.round(weighted((d) => bestReduction.get(d)!) * 10_000);

  const rounds: CityRound[] = roundDays.map((day, r) => {
    const lineDrugs = r % 2 === 0 ? shortage.slice(0, half) : shortage.slice(half);
    const quotes = lineDrugs.map((d) => {
      const ref = drugs[d]!.referenceFen;
      const n = Math.min(distributors.length, rng.int(1, Math.min(4, distributors.length)));
      const who = shuffle(rng, distributors.map((x) => x.no - 1)).slice(0, n);
      const best = Math.max(1, Math.round(ref * (1 - bestReduction.get(d)!)));
      return who.map((distributor, k) => {
        const finalFen = k === 0 ? best : Math.min(ref, Math.round(best * (1 + 0.01 + rng.next() * 0.07)));
        const openingFen = Math.min(ref, Math.round(finalFen * (1 + 0.02 + rng.next() * 0.05)));
        return { distributor, openingFen, finalFen };
      });
    });
    return { no: r + 1, day, drugs: lineDrugs, quotes };
  });

  const vbpDrugs = drugs.filter((d) => d.kind === 'vbp').map((d) => d.no - 1);
  const declarationDay = months <= 1 ? 2 : 14;
  const vbp: CityVbp = {
    declarationDay,
    deadlineDay: declarationDay + 5,
    tenderClosesDay: declarationDay + 8,
    drugs: vbpDrugs,
    ceilingsFen: vbpDrugs.map((d) => drugs[d]!.referenceFen),
    bids: vbpDrugs.map((d) => {
      const ceiling = drugs[d]!.referenceFen;
      const n = Math.min(distributors.length, rng.int(2, Math.min(5, distributors.length)));
      // NOTE: VBP bids cut deeper than listings (the national batches average about half), but the
      // agreed volumes are a small part of the city's purchases.
      return shuffle(rng, distributors.map((x) => x.no - 1)).slice(0, n).map((distributor) => ({ distributor, priceFen: Math.max(1, Math.round(ceiling * (0.55 + rng.next() * 0.4))) }));
    }),
  };

  return {
    seed,
    scale,
    months,
    domain,
    password,
    operator: { orgName: '清远市医疗保障局（GPO 平台）', email: `operator@${domain}`, name: '平台运营' },
    banks,
    hospitals,
    distributors,
    drugs,
    rounds,
    vbp,
    yearlyPurchaseFen: Math.round(MODEL_CITY.yearlyPurchaseFen * scale),
    lineValueFen: LINE_VALUE_FEN,
    expectedReductionBp,
  };
}

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Simulated days in `months` months (30.4 days each, whole days). */
export function monthsToDays(months: number): number {
  return Math.round(months * 30.4);
}

/** Totals of a city, for the report and the tests. */
export function cityTotals(city: City) {
  return {
    hospitals: city.hospitals.length,
    byLevel: ([1, 2, 3] as const).map((l) => city.hospitals.filter((h) => h.level === l).length),
    distributors: city.distributors.length,
    banks: city.banks.length,
    drugs: city.drugs.length,
    shortageDrugs: city.drugs.filter((d) => d.kind === 'shortage').length,
    vbpDrugs: city.drugs.filter((d) => d.kind === 'vbp').length,
    guaranteeLinesFen: city.hospitals.reduce((a, h) => a + h.lineFen, 0),
    yearlyPurchaseFen: city.yearlyPurchaseFen,
    rounds: city.rounds.length,
    clearlyBelow: city.rounds.slice(0, 2).reduce((a, r) => a + r.quotes.filter((q, i) => Math.min(...q.map((x) => x.finalFen)) <= city.drugs[r.drugs[i]!]!.referenceFen * 0.8).length, 0),
  };
}

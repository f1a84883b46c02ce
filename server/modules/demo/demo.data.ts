import type { OrgType, Role } from '../../platform/schemas';

/** The shared password of every demo account (demo mode only; never in production). */
export const DEMO_PASSWORD = 'demo-2026-gpo';

export interface DemoOrg {
  key: string;
  name: string;
  type: OrgType;
  hospitalLevel?: 1 | 2 | 3;
  address?: string;
  creditCode: string;
  users: { email: string; name: string; role: Role }[];
}

/** A fictional city: one operator, three hospitals (levels 1–3), four distributors, two banks. */
export const DEMO_ORGS: DemoOrg[] = [
  {
    key: 'operator',
    name: '示范市医疗保障局（GPO 平台）',
    type: 'operator',
    creditCode: '11441800MB2C12345X',
    users: [{ email: 'operator@demo.gpo', name: '王运营', role: 'operator' }],
  },
  {
    key: 'hospital-3',
    name: '示范市人民医院',
    type: 'hospital',
    hospitalLevel: 3,
    address: '示范市清城区人民一路 1 号 药剂科',
    creditCode: '12441800455912345A',
    users: [
      { email: 'pharmacist@h3.demo.gpo', name: '李药师', role: 'pharmacist' },
      { email: 'finance@h3.demo.gpo', name: '陈财务', role: 'hospital_finance' },
    ],
  },
  {
    key: 'hospital-2',
    name: '示范市中医院',
    type: 'hospital',
    hospitalLevel: 2,
    address: '示范市清城区北江路 28 号 药库',
    creditCode: '12441800455923456B',
    users: [
      { email: 'pharmacist@h2.demo.gpo', name: '张药师', role: 'pharmacist' },
      { email: 'finance@h2.demo.gpo', name: '刘财务', role: 'hospital_finance' },
    ],
  },
  {
    key: 'hospital-1',
    name: '城东社区卫生服务中心',
    type: 'hospital',
    hospitalLevel: 1,
    address: '示范市城东街道东环路 6 号',
    creditCode: '12441800455934567C',
    users: [
      { email: 'pharmacist@h1.demo.gpo', name: '赵药师', role: 'pharmacist' },
      { email: 'finance@h1.demo.gpo', name: '孙财务', role: 'hospital_finance' },
    ],
  },
  {
    key: 'distributor-1',
    name: '华南医药配送有限公司',
    type: 'distributor',
    creditCode: '91441800MA4W12345D',
    users: [{ email: 'sales@huanan.demo.gpo', name: '周经理', role: 'distributor' }],
  },
  {
    key: 'distributor-2',
    name: '岭南药业物流有限公司',
    type: 'distributor',
    creditCode: '91441800MA4W23456E',
    users: [{ email: 'sales@lingnan.demo.gpo', name: '吴经理', role: 'distributor' }],
  },
  {
    key: 'distributor-3',
    name: '北江医药有限公司',
    type: 'distributor',
    creditCode: '91441800MA4W34567F',
    users: [{ email: 'sales@beijiang.demo.gpo', name: '郑经理', role: 'distributor' }],
  },
  {
    key: 'distributor-4',
    name: '康达医药供应链有限公司',
    type: 'distributor',
    creditCode: '91441800MA4W45678G',
    users: [{ email: 'sales@kangda.demo.gpo', name: '冯经理', role: 'distributor' }],
  },
  {
    key: 'bank-1',
    name: '示范农村商业银行',
    type: 'bank',
    creditCode: '91441800MA4X12345H',
    users: [{ email: 'officer@ruralbank.demo.gpo', name: '何行长', role: 'bank_officer' }],
  },
  {
    key: 'bank-2',
    name: '示范城市商业银行',
    type: 'bank',
    creditCode: '91441800MA4X23456J',
    users: [{ email: 'officer@citybank.demo.gpo', name: '许经理', role: 'bank_officer' }],
  },
];

/** Demo logins as shown on the login page and printed at start-up. */
export function demoLogins(): { email: string; password: string; role: Role; orgName: string }[] {
  return DEMO_ORGS.flatMap((o) => o.users.map((u) => ({ email: u.email, password: DEMO_PASSWORD, role: u.role, orgName: o.name })));
}

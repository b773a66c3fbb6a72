"""Shared tables and a small TOML writer for the example halls' generators.

The example halls are written from compact Python tables so that 150 windows and 60 matters stay consistent
(every reference resolves, every material has a `where`), while the TOML they produce reads like a file a
hall's IT staff would write by hand. Run the generators, never edit their output: `gen_county.py`,
`gen_provincial.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Materials: id -> (name, name_en, where, where_en). Suffix a material id with "~" in a matter to make it
# 容缺 (tolerable: may be supplied later) and with "?" to make it optional.
MATERIALS: dict[str, tuple[str, str, str, str]] = {
    # Citizens
    "idcard": (
        "居民身份证",
        "Resident ID card",
        "本人随身携带；遗失的先到公安户政窗口办理临时居民身份证",
        "Bring it with you; if lost, get a temporary ID card at the police household window",
    ),
    "hukou": (
        "居民户口簿",
        "Household register booklet",
        "户主保管；遗失的到户籍所在地派出所补领",
        "Kept by the head of household; if lost, apply at your local police station",
    ),
    "photo": (
        "近期免冠彩色照片（二寸）",
        "Recent colour photo (2-inch, no hat)",
        "大厅一楼自助照相机或附近照相馆",
        "The photo booth on the first floor or a nearby studio",
    ),
    "photo_receipt": (
        "数码相片回执",
        "Digital photo receipt",
        "具备公安机关认证资质的照相馆",
        "A photo studio certified by the police",
    ),
    "move_permit": (
        "准予迁入证明",
        "Permission to move in",
        "迁入地派出所",
        "The police station of the new residence",
    ),
    "marriage_cert": (
        "结婚证",
        "Marriage certificate",
        "婚姻登记机关；遗失的可申请补领",
        "The marriage registry; a lost one can be reissued",
    ),
    "birth_cert": (
        "出生医学证明",
        "Medical birth certificate",
        "婴儿出生的医院",
        "The hospital where the baby was born",
    ),
    "old_idcard": (
        "原居民身份证（换领时交回）",
        "Old ID card (handed in when renewing)",
        "本人随身携带",
        "Bring it with you",
    ),
    "authorization": (
        "授权委托书",
        "Power of attorney",
        "大厅服务台提供空白样表，委托人签字",
        "Blank forms at the service desk, signed by the applicant",
    ),
    "agent_id": (
        "代理人身份证",
        "Agent's ID card",
        "代理人本人携带",
        "The agent brings it",
    ),
    "application": (
        "申请表",
        "Application form",
        "窗口领取或在政务服务网下载，可现场填写",
        "At the window or downloaded from the online service portal; can be filled in on site",
    ),
    "ss_card": (
        "社会保障卡",
        "Social security card",
        "社保卡服务窗口或合作银行网点",
        "The social security card window or a partner bank",
    ),
    "bank_card": (
        "本人银行卡（一类账户）",
        "Your own bank card (type I account)",
        "任一商业银行网点",
        "Any commercial bank branch",
    ),
    "transfer_form": (
        "参保缴费凭证或转移接续联系函",
        "Contribution record or transfer letter",
        "原参保地社保经办机构或国家社会保险公共服务平台",
        "The social insurance agency of your former place, or the national online service platform",
    ),
    "separation_cert": (
        "解除或终止劳动合同证明",
        "Certificate of termination of employment",
        "原用人单位人事部门",
        "The HR department of your former employer",
    ),
    "medical_invoice": (
        "医疗费用发票原件",
        "Original medical invoices",
        "就诊医院收费处",
        "The hospital's cashier",
    ),
    "medical_record": (
        "出院记录及费用明细清单",
        "Discharge summary and itemised bill",
        "就诊医院病案室",
        "The hospital's medical records office",
    ),
    "referral": (
        "转诊转院备案表",
        "Referral filing form",
        "参保地医保经办机构或医保服务平台线上备案",
        "The medical insurance agency or its online platform",
    ),
    "property_cert": (
        "不动产权证书（或房屋所有权证、土地使用证）",
        "Real estate title certificate (or old house/land certificates)",
        "权利人保管；遗失的先办理遗失补证登记",
        "Kept by the owner; if lost, apply for a replacement first",
    ),
    "sale_contract": (
        "房屋买卖合同（网签备案）",
        "Home sale contract (filed online)",
        "住房和城乡建设部门房屋交易窗口",
        "The housing transaction window of the housing department",
    ),
    "tax_paid": (
        "契税等税费完税凭证",
        "Deed tax payment receipt",
        "本大厅税务窗口",
        "The tax window in this hall",
    ),
    "loan_contract": (
        "借款合同及抵押合同",
        "Loan and mortgage contracts",
        "贷款银行",
        "The lending bank",
    ),
    "survey": (
        "不动产权籍调查成果",
        "Cadastral survey result",
        "具备测绘资质的机构",
        "A licensed surveying firm",
    ),
    "fund_record": (
        "住房公积金缴存证明",
        "Housing fund payment record",
        "单位经办人或公积金窗口自助打印",
        "Your employer's HR staff, or print it at the housing fund window",
    ),
    "purchase_invoice": (
        "购房发票或购房合同",
        "Home purchase invoice or contract",
        "开发商或房屋交易窗口",
        "The developer or the housing transaction window",
    ),
    "lease": (
        "房屋租赁备案证明",
        "Registered lease",
        "住房租赁服务平台或房屋交易窗口",
        "The housing rental platform or the housing transaction window",
    ),
    "income_proof": (
        "收入证明",
        "Proof of income",
        "所在单位人事部门",
        "Your employer's HR department",
    ),
    "credit_report": (
        "个人征信报告",
        "Personal credit report",
        "中国人民银行征信中心或商业银行自助查询机",
        "The PBoC credit reference centre or a bank's self-service machine",
    ),
    "discharge_cert": (
        "退出现役证或退役证明",
        "Certificate of discharge from active service",
        "原部队或退役军人事务部门",
        "Your former unit or the veterans' affairs department",
    ),
    "divorce_agreement": (
        "离婚协议书（一式三份）",
        "Divorce agreement (three copies)",
        "双方协商签署，可使用婚姻登记窗口提供的范本",
        "Signed by both; the marriage window has a template",
    ),
    "no_marriage": (
        "无配偶声明",
        "Statement of no spouse",
        "婚姻登记窗口现场签署",
        "Signed at the marriage window",
    ),
    "invoice_user": (
        "发票领用人身份证",
        "ID card of the invoice collector",
        "经办人本人携带",
        "The collector brings it",
    ),
    "tax_ukey": (
        "税务UKey",
        "Tax UKey",
        "本大厅税务窗口领取",
        "Issued at the tax window in this hall",
    ),
    # Enterprises
    "name_notice": (
        "企业名称自主申报告知书",
        "Company name self-declaration notice",
        "企业登记网上服务平台自主申报后打印",
        "Print it after declaring the name on the company registration portal",
    ),
    "articles": (
        "公司章程",
        "Articles of association",
        "全体股东签署；可使用窗口提供的章程范本",
        "Signed by all shareholders; templates at the window",
    ),
    "premises": (
        "住所（经营场所）使用证明",
        "Proof of business premises",
        "产权证明复印件或租赁合同",
        "A copy of the title certificate or the lease",
    ),
    "shareholder_ids": (
        "股东、法定代表人身份证明",
        "IDs of shareholders and the legal representative",
        "各股东及法定代表人本人",
        "Each shareholder and the legal representative",
    ),
    "license": (
        "营业执照",
        "Business licence",
        "市场监督管理部门企业登记窗口",
        "The company registration window of market regulation",
    ),
    "legal_rep_id": (
        "法定代表人身份证",
        "Legal representative's ID card",
        "法定代表人本人",
        "The legal representative",
    ),
    "resolution": (
        "股东会决议或股东决定",
        "Shareholders' resolution",
        "企业内部形成，加盖公章",
        "Adopted by the company, with its seal",
    ),
    "food_layout": (
        "经营场所平面布局图及设备布局图",
        "Floor plan and equipment layout of the premises",
        "申请人自行绘制",
        "Drawn by the applicant",
    ),
    "food_safety_rules": (
        "食品安全管理制度",
        "Food safety management rules",
        "申请人自行制定，可参考窗口范本",
        "Written by the applicant; templates at the window",
    ),
    "feasibility": (
        "项目可行性研究报告",
        "Project feasibility study",
        "具备相应能力的工程咨询单位",
        "A qualified engineering consultancy",
    ),
    "project_application": (
        "项目申请报告",
        "Project application report",
        "具备相应能力的工程咨询单位编制",
        "Prepared by a qualified engineering consultancy",
    ),
    "land_use": (
        "用地预审与选址意见书",
        "Land pre-examination and site selection opinion",
        "自然资源部门",
        "The natural resources department",
    ),
    "eia_report": (
        "环境影响报告书（表）",
        "Environmental impact report",
        "具备能力的环评编制单位",
        "A qualified EIA consultancy",
    ),
    "planning_permit": (
        "建设用地规划许可证",
        "Land use planning permit",
        "自然资源部门",
        "The natural resources department",
    ),
    "design_review": (
        "施工图设计文件审查合格书",
        "Construction drawing review certificate",
        "施工图审查机构",
        "The construction drawing review agency",
    ),
    "contract_filing": (
        "施工合同及中标通知书",
        "Construction contract and notice of award",
        "建设单位与施工单位",
        "The client and the contractor",
    ),
    "safety_plan": (
        "安全生产条件说明及应急预案",
        "Safety conditions statement and emergency plan",
        "申请单位编制",
        "Prepared by the applicant",
    ),
    "qualification": (
        "专业技术人员资格证书",
        "Certificates of the professional staff",
        "相关人员本人",
        "The staff concerned",
    ),
    "equipment_list": (
        "主要设备清单及检测报告",
        "List of main equipment and test reports",
        "申请单位及检测机构",
        "The applicant and the testing body",
    ),
    "drug_quality": (
        "药品质量管理文件",
        "Drug quality management documents",
        "申请企业质量管理部门",
        "The company's quality department",
    ),
    "gmp_report": (
        "生产质量管理规范自查报告",
        "GMP self-inspection report",
        "申请企业",
        "The applicant company",
    ),
    "medical_staff": (
        "医务人员执业证书",
        "Practising certificates of medical staff",
        "医务人员本人",
        "The staff concerned",
    ),
    "school_plan": (
        "办学章程及发展规划",
        "School charter and development plan",
        "举办者制定",
        "Written by the school's sponsor",
    ),
    "capital_proof": (
        "资产来源及验资证明",
        "Proof of assets and capital verification",
        "会计师事务所",
        "An accounting firm",
    ),
    "vehicle_list": (
        "车辆行驶证及技术等级评定",
        "Vehicle licences and technical grading",
        "车辆管理所及机动车检测机构",
        "The vehicle office and a vehicle testing station",
    ),
    "water_plan": (
        "水资源论证报告书（表）",
        "Water resource assessment report",
        "具备能力的编制单位",
        "A qualified consultancy",
    ),
    "forest_survey": (
        "使用林地现状调查表",
        "Forest land survey",
        "具备资质的林业调查规划设计单位",
        "A licensed forestry survey firm",
    ),
    "foreign_passport": (
        "外方当事人护照及有效入境签证",
        "Foreign party's passport and valid visa",
        "外方当事人本人",
        "The foreign party",
    ),
    "single_cert_foreign": (
        "外方无配偶证明（经认证）",
        "Foreign party's certificate of no marriage (legalised)",
        "所在国公证机构出具并经我国驻外使领馆认证",
        "Issued by a notary of their country and legalised by a Chinese embassy or consulate",
    ),
    "bid_docs": (
        "招标文件及招标公告",
        "Tender documents and notice",
        "招标人或招标代理机构",
        "The tenderer or its agent",
    ),
    "archive_letter": (
        "档案查阅介绍信",
        "Letter of introduction for archive access",
        "所在单位或社区",
        "Your employer or community office",
    ),
    "program_plan": (
        "节目内容方案",
        "Programme content plan",
        "申请单位编制",
        "Prepared by the applicant",
    ),
    "patent_application": (
        "专利权质押登记申请表及质押合同",
        "Patent pledge application and pledge contract",
        "出质人与质权人签署",
        "Signed by pledgor and pledgee",
    ),
    "grain_storage": (
        "仓储设施产权或租赁证明",
        "Title or lease of the storage facilities",
        "申请企业",
        "The applicant company",
    ),
    "seismic_report": (
        "地震安全性评价报告",
        "Seismic safety evaluation report",
        "具备能力的评价单位",
        "A qualified evaluation firm",
    ),
    "lightning_design": (
        "防雷装置设计图纸及说明",
        "Lightning protection design drawings",
        "具备资质的设计单位",
        "A licensed design firm",
    ),
    "telecom_plan": (
        "电信业务经营方案及网络与信息安全保障措施",
        "Telecom business plan and network security measures",
        "申请企业编制",
        "Prepared by the applicant company",
    ),
    "tobacco_location": (
        "经营场所位置示意图",
        "Map of the shop's location",
        "申请人自行绘制",
        "Drawn by the applicant",
    ),
    "sports_venue": (
        "经营场所、器材设施检验合格证明",
        "Inspection certificates for the venue and equipment",
        "具备资质的检验机构",
        "A licensed inspection body",
    ),
    "ethnic_approval": (
        "宗教团体同意意见",
        "Consent of the religious association",
        "所在地宗教团体",
        "The local religious association",
    ),
    "civil_defense": (
        "防空地下室设计文件",
        "Air-raid shelter design documents",
        "具备资质的设计单位",
        "A licensed design firm",
    ),
    "stat_form": (
        "统计调查项目审批申请表及调查方案",
        "Statistical survey application and survey plan",
        "申请部门编制",
        "Prepared by the applying body",
    ),
    "finance_license": (
        "金融业务许可申请书及股东资质证明",
        "Finance licence application and shareholders' qualifications",
        "申请企业",
        "The applicant company",
    ),
    "energy_report": (
        "节能报告",
        "Energy-saving report",
        "具备能力的咨询单位",
        "A qualified consultancy",
    ),
    "science_report": (
        "科技成果登记表及评价材料",
        "Research result registration form and evaluation",
        "完成单位",
        "The institution that did the work",
    ),
    "press_plan": (
        "出版单位设立方案",
        "Publishing house establishment plan",
        "主办单位",
        "The sponsoring body",
    ),
    "pharmacist": (
        "执业药师注册证",
        "Licensed pharmacist registration",
        "执业药师本人",
        "The pharmacist",
    ),
    "safety_assess": (
        "安全评价报告",
        "Safety assessment report",
        "具备资质的安全评价机构",
        "A licensed safety assessment firm",
    ),
    "lawyer_cert": (
        "法律职业资格证书及实习考核材料",
        "Legal professional qualification and internship assessment",
        "申请人本人及律师协会",
        "The applicant and the bar association",
    ),
    "fiscal_form": (
        "非税收入票据领用申请表",
        "Non-tax revenue receipt application",
        "财政窗口领取",
        "At the finance window",
    ),
    "foreign_invest": (
        "外商投资企业设立信息报告",
        "Foreign-invested enterprise report",
        "企业登记网上服务平台填报",
        "Filed on the company registration portal",
    ),
    "culture_plan": (
        "演出场所或演出节目说明",
        "Description of the venue or the programme",
        "申请单位编制",
        "Prepared by the applicant",
    ),
}

# Questions: id -> (text, text_en, expected, fail_reason, fail_reason_en, where, where_en)
QUESTIONS: dict[str, tuple[str, str, bool, str, str, str, str]] = {
    "in_person": (
        "是否本人到场办理？",
        "Is the applicant here in person?",
        True,
        "非本人办理的，需提供授权委托书和代理人身份证",
        "Someone acting for the applicant needs a power of attorney and their own ID card",
        "服务台领取授权委托书样表",
        "Ask for a power of attorney form at the service desk",
    ),
    "local": (
        "户籍或参保关系是否在本地？",
        "Is your household registration or insurance in this area?",
        True,
        "非本地户籍或参保的，请到户籍地或参保地办理，或通过政务服务网跨省通办",
        "Apply where you are registered or insured, or use the online cross-province service",
        "户籍地或参保地政务服务中心",
        "The service centre where you are registered",
    ),
    "adult": (
        "申请人是否年满十八周岁？",
        "Is the applicant 18 or older?",
        True,
        "未满十八周岁的，需由监护人陪同办理",
        "Applicants under 18 must come with a guardian",
        "监护人携带身份证、户口簿陪同",
        "The guardian comes along with their ID card and household booklet",
    ),
    "both_present": (
        "男女双方是否都已到场？",
        "Are both parties here?",
        True,
        "婚姻登记须双方本人共同到场，不能委托他人",
        "Both parties must come in person; no one can act for them",
        "约定时间双方一同前来，可在手机上预约",
        "Come together; you can book a time on your phone",
    ),
    "no_mortgage": (
        "房屋是否没有抵押、查封？",
        "Is the property free of mortgages and seizures?",
        True,
        "有抵押的须先办理抵押注销登记（或抵押权人同意），被查封的须先解除查封",
        "Cancel the mortgage (or get the lender's consent) or lift the seizure first",
        "抵押银行或作出查封的法院",
        "The lending bank or the court",
    ),
    "insured_6m": (
        "是否已连续缴存或参保满六个月？",
        "Have you paid in for six months in a row?",
        True,
        "连续缴存或参保不满六个月的，暂不符合办理条件",
        "You need six months of continuous payments first",
        "所在单位人事部门核实缴存记录",
        "Check your payment record with your employer",
    ),
    "no_loan": (
        "是否没有未结清的住房公积金贷款？",
        "Are you free of unpaid housing fund loans?",
        True,
        "有未结清公积金贷款的，须先结清或按规定办理",
        "Settle the outstanding housing fund loan first",
        "公积金贷款窗口",
        "The housing fund loan window",
    ),
    "designated": (
        "就诊医院是否为医保定点医疗机构？",
        "Was the hospital designated by the medical insurance?",
        True,
        "非定点医疗机构的费用不予报销（急诊抢救除外，须提供急诊证明）",
        "Costs at non-designated hospitals are not covered, except emergencies with proof",
        "就诊医院医保办开具急诊证明",
        "The hospital's insurance office can certify an emergency",
    ),
    "unemployed_registered": (
        "是否已办理失业登记？",
        "Have you registered as unemployed?",
        True,
        "须先办理失业登记",
        "Register as unemployed first",
        "本大厅人社窗口或就业服务平台",
        "The human resources window or the employment service platform",
    ),
    "name_declared": (
        "企业名称是否已完成自主申报？",
        "Has the company name been declared?",
        True,
        "须先在企业登记网上服务平台完成名称自主申报",
        "Declare the name on the company registration portal first",
        "大厅自助申报区电脑，有帮办人员指导",
        "The self-service PCs in the hall, with staff to help",
    ),
    "no_tax_due": (
        "是否已结清应缴税款和滞纳金？",
        "Are all taxes and late fees paid?",
        True,
        "有欠税的须先缴清税款和滞纳金",
        "Pay the taxes and late fees due first",
        "本大厅税务窗口",
        "The tax window in this hall",
    ),
    "discharged": (
        "是否已办理退役手续并完成安置报到？",
        "Have you been discharged and registered for resettlement?",
        True,
        "须先持退役证件到退役军人事务部门报到",
        "Register with the veterans' affairs department with your discharge papers first",
        "退役军人事务窗口",
        "The veterans' affairs window",
    ),
    "site_ready": (
        "经营场所是否已具备开业条件？",
        "Are the premises ready for business?",
        True,
        "经营场所须符合相关安全和卫生要求后方可申请",
        "The premises must meet safety and hygiene rules before you apply",
        "可预约现场指导",
        "Book an on-site consultation",
    ),
    "project_filed": (
        "项目是否已取得立项批复或备案？",
        "Has the project been approved or filed?",
        True,
        "须先取得项目审批、核准或备案文件",
        "Get the project approval or filing first",
        "投资项目审批窗口或投资项目在线审批监管平台",
        "The investment project window or the online project approval platform",
    ),
    "no_violation": (
        "近三年是否没有重大违法违规记录？",
        "No serious violations in the past three years?",
        True,
        "有重大违法违规记录的，暂不符合许可条件",
        "A serious violation in the past three years rules out the licence",
        "可向窗口咨询信用修复办法",
        "Ask at the window about credit repair",
    ),
    "foreign_party": (
        "一方是否为外国人或港澳台居民？",
        "Is one party a foreign national or from Hong Kong, Macao or Taiwan?",
        True,
        "双方均为内地居民的，请到户籍地婚姻登记机关办理",
        "Two mainland residents register where one of them is registered",
        "户籍地婚姻登记处",
        "The marriage registry where you are registered",
    ),
}


@dataclass(frozen=True)
class MatterRow:
    """One matter in compact form; materials may end in "~" (容缺) or "?" (optional)."""

    code: str
    name: str
    name_en: str
    series: str
    department: str
    pinyin: str
    handle_min: float
    materials: Sequence[str]
    questions: Sequence[str] = ()
    promised: bool = False
    category: str = ""
    daily_cap: int | None = None
    bookable: bool = True


@dataclass
class Toml:
    """A tiny TOML writer: enough for the example halls, with blank lines and comments where they help."""

    lines: list[str] = field(default_factory=list)

    def comment(self, text: str) -> None:
        self.lines.extend(f"# {line}".rstrip() for line in text.splitlines())

    def blank(self) -> None:
        # A comment belongs to the table under it: no blank line between them.
        if self.lines and self.lines[-1] != "" and not self.lines[-1].startswith("#"):
            self.lines.append("")

    def table(self, name: str, *, array: bool = False) -> None:
        self.blank()
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")

    def kv(self, key: str, value: object, comment: str = "") -> None:
        line = f"{key} = {render(value)}"
        self.lines.append(f"{line}  # {comment}" if comment else line)

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def render(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.time):
        return f'"{value:%H:%M}"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    raise TypeError(f"cannot render {value!r}")


def dates(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# 国务院办公厅关于2026年部分节假日安排的通知: the days off, and the weekend days that are working days.
HOLIDAYS_2026 = [
    ("元旦", dates("2026-01-01", "2026-01-03")),
    ("春节", dates("2026-02-15", "2026-02-23")),
    ("清明节", dates("2026-04-04", "2026-04-06")),
    ("劳动节", dates("2026-05-01", "2026-05-05")),
    ("端午节", dates("2026-06-19", "2026-06-21")),
    ("中秋节", dates("2026-09-25", "2026-09-27")),
    ("国庆节", dates("2026-10-01", "2026-10-07")),
]
EXTRA_WORKDAYS_2026 = [
    dt.date.fromisoformat(d)
    for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
]


def write_hall(
    t: Toml,
    *,
    hall_id: str,
    name: str,
    name_en: str,
    weekday_hours: tuple[str, str],
    saturday_hours: tuple[str, str],
    public_base_url: str,
    notice: str,
) -> None:
    t.table("hall")
    t.kv("id", hall_id)
    t.kv("name", name)
    t.kv("name_en", name_en)
    t.kv("timezone", "Asia/Shanghai")
    t.kv("cutoff_min", 30, "no walk-in tickets in the last 30 minutes")
    t.kv("expire_at_close", True)
    t.kv("public_base_url", public_base_url)
    t.kv("notice", notice)
    t.comment("2026 public holidays and 调休 working days (State Council notice).")
    t.lines.append("holidays = [")
    for festival, days in HOLIDAYS_2026:
        t.lines.append(f"    {', '.join(d.isoformat() for d in days)},  # {festival}")
    t.lines.append("]")
    t.kv("extra_workdays", EXTRA_WORKDAYS_2026)
    for day in ("mon", "tue", "wed", "thu", "fri"):
        t.table(f"hall.hours.{day}")
        t.kv("open", weekday_hours[0])
        t.kv("close", weekday_hours[1])
    t.blank()
    t.comment('"5+1": on Saturdays only booked matters are served, at windows opened from the booking list.')
    t.table("hall.hours.sat")
    t.kv("open", saturday_hours[0])
    t.kv("close", saturday_hours[1])
    t.kv("booking_only", True)


def write_departments(t: Toml, departments: Iterable[tuple[str, str, str]]) -> None:
    for dept_id, name, name_en in departments:
        t.table("departments", array=True)
        t.kv("id", dept_id)
        t.kv("name", name)
        t.kv("name_en", name_en)


def write_series(t: Toml, series: Iterable[tuple[str, str, str, int | None, int]]) -> None:
    for prefix, name, name_en, cap, target in series:
        t.table("series", array=True)
        t.kv("prefix", prefix)
        t.kv("name", name)
        t.kv("name_en", name_en)
        if cap is not None:
            t.kv("daily_cap", cap)
        t.kv("target_wait_min", target)


def write_matters(t: Toml, matters: Iterable[MatterRow], tolerance_days: int = 20) -> None:
    for m in matters:
        t.table("matters", array=True)
        t.kv("code", m.code)
        t.kv("name", m.name)
        t.kv("name_en", m.name_en)
        t.kv("series", m.series)
        t.kv("department", m.department)
        t.kv("kind", "承诺件" if m.promised else "即办件")
        if m.category:
            t.kv("category", m.category)
        t.kv("pinyin", m.pinyin)
        t.kv("prior_handle_min", m.handle_min)
        if m.daily_cap is not None:
            t.kv("daily_cap", m.daily_cap)
        if not m.bookable:
            t.kv("bookable", False)
        if any(x.endswith("~") for x in m.materials):
            t.table("matters.precheck")
            t.kv(
                "tolerance_days", tolerance_days, "容缺 items must be supplied within this many working days"
            )
        for qid in m.questions:
            text, text_en, expected, reason, reason_en, where, where_en = QUESTIONS[qid]
            t.table("matters.precheck.questions", array=True)
            t.kv("id", qid)
            t.kv("text", text)
            t.kv("text_en", text_en)
            if not expected:
                t.kv("expected", False)
            t.kv("fail_reason", reason)
            t.kv("fail_reason_en", reason_en)
            t.kv("where", where)
            t.kv("where_en", where_en)
        for spec in m.materials:
            mid = spec.rstrip("~?")
            name, name_en, where, where_en = MATERIALS[mid]
            t.table("matters.precheck.materials", array=True)
            t.kv("id", mid)
            t.kv("name", name)
            t.kv("name_en", name_en)
            t.kv("where", where)
            t.kv("where_en", where_en)
            if spec.endswith("~"):
                t.kv("tolerable", True, "容缺受理")
            if spec.endswith("?"):
                t.kv("required", False)


def write_priority(t: Toml, *, absolute: tuple[str, ...] = (), absolute_in_row: int = 3) -> None:
    t.blank()
    t.comment(
        "绿色通道. The line is ordered by effective time − head start: a class goes ahead of the tickets"
    )
    t.comment(
        "that came up to its head start before it, and no further (docs/config.md, 'Choosing head starts')."
    )
    # Chosen with `hallq sim --seeds 1-5 --json` (and --no-priority) on the provincial day, where about 15 %
    # of tickets have a class: each class waits 8-12 minutes less than the normal tickets issued around it,
    # and the normal P90 wait is 8 % above a day with no priority at all (60/30-minute head starts cost 15 %).
    classes = [
        ("appointment", "预约", "Appointment", 20, False),
        ("key_project", "重点项目", "Key project", 10, False),
        ("elderly", "老年人（70周岁以上）", "Elderly (70+)", 15, True),
        ("disabled", "残疾人", "Person with a disability", 15, True),
        ("military", "军人", "Military", 15, True),
    ]
    for cid, name, name_en, head_start, selectable in classes:
        t.table("priority_classes", array=True)
        t.kv("id", cid)
        t.kv("name", name)
        t.kv("name_en", name_en)
        t.kv("head_start_min", head_start)
        if cid in absolute:
            t.kv("absolute", True, "called next, at most priority.absolute_in_row in a row")
        if not selectable:
            t.kv("kiosk_selectable", False, "checked in by booking code or issued at the desk")
    if absolute:
        t.table("priority")
        t.kv("absolute_in_row", absolute_in_row)
    t.table("no_show")
    t.kv("max_recalls", 2)
    t.kv("min_recall_gap_s", 30, "people walk slowly")
    t.kv("max_requeues", 2, "then the citizen takes a new ticket")
    t.table("transfer")
    t.kv("to_closed_window", "refuse", "or 'series': go to the closed window's series instead")
    t.table("rating")
    t.kv("timeout_s", 30)
    t.kv("four_key_map", [5, 4, 2, 1], "非常满意, 满意, 不满意, 非常不满意")
    t.kv("case_deadline_days", 5)
    t.table("targets")
    t.comment("吉林市政发(2010)4号: 现场办结率 ≥ 90 %, 即办件 ≥ 70 %, 满意率 ≥ 95 %.")
    t.kv("onsite_rate", 0.90)
    t.kv("immediate_share", 0.70)
    t.kv("satisfaction", 0.95)


def write_common_tail(t: Toml, *, upload_endpoint: str) -> None:
    t.table("led")
    t.kv("welcome", "欢迎光临")
    t.kv("calling", "请{number}号到{window}号窗口")
    t.kv("paused", "暂停服务 {reason}")
    t.kv("closed", "本窗口暂停服务")
    t.kv("hall_rows", 4)
    for at, level in (("08:00", 12), ("12:00", 15), ("17:00", 8)):
        t.table("led.brightness", array=True)
        t.kv("at", at)
        t.kv("level", level)
    t.table("voice")
    t.kv("languages", ["zh", "en"])
    t.kv("repeats", 2)
    t.kv("max_age_s", 120)
    t.kv("max_backlog", 20)
    t.table("kiosk")
    t.kv("print_confirm_timeout_s", 120)
    t.kv("idle_reset_s", 60)
    t.kv("elder_idle_reset_s", 180)
    t.kv("show_remaining", True)
    t.table("privacy")
    t.kv("retention_days", 180)
    t.kv("show_names_on_boards", False)
    t.table("upload")
    t.comment("好差评 upload to the provincial platform; off until the hall has its platform account.")
    t.kv("enabled", False)
    t.kv("endpoint", upload_endpoint)
    t.kv("retry_max_s", 600)
    t.table("upload.field_map")
    t.kv("evaluateLevel", "score")
    t.kv("taskCode", "matter_code")
    t.kv("projectNo", "ticket_id")
    t.kv("windowNo", "window")
    t.table("server")
    t.kv("durability", "full")
    t.kv("backlog_events", 10000)
    t.kv("snapshot_threshold", 5000)
    t.kv("pause_reasons", ["休息", "会议", "系统故障", "业务培训", "临时外出"])

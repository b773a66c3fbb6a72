"""The materials citizens bring, for the example halls' generators (halldata.py joins them with the
enterprises' in `MATERIALS`)."""

from __future__ import annotations

# Materials: id -> (name, name_en, where, where_en). Suffix a material id with "~" in a matter to make it
# 容缺 (tolerable: may be supplied later) and with "?" to make it optional.
CITIZEN_MATERIALS: dict[str, tuple[str, str, str, str]] = {
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
}

"""The pre-check questions of the example halls' matters, for their generators (halldata.py)."""

from __future__ import annotations

# Questions: id -> (text, text_en, expected, fail_reason, fail_reason_en, where, where_en)
QUESTIONS: dict[str, tuple[str, str, bool, str, str, str, str]] = {
    # 代办 is normal (DOMAIN.md): "no" is not a failure, it opens "agent_docs" (AGENT_BRANCH below), so this
    # question needs no fail reason of its own.
    "in_person": (
        "是否本人到场办理？",
        "Is the applicant here in person?",
        True,
        "",
        "",
        "",
        "",
    ),
    "agent_docs": (
        "带了授权委托书和代理人身份证吗？",
        "Do you have the power of attorney and your own ID card?",
        True,
        "",
        "",
        "",
        "",
    ),
    # Documents with fingerprints and a photo taken on site cannot be applied for by an agent: 居民身份证法
    # Art. 3 (fingerprints for ID cards), 出境入境管理法 Art. 11 (ordinary passports and travel permits in
    # person) and Art. 30 (foreigners' residence permits: fingerprints). An agent would wait for nothing.
    "in_person_only": (
        "申请人本人是否到场？",
        "Is the applicant here in person?",
        True,
        "须申请人本人到场采集指纹和人像，不能委托他人代办",
        "The applicant must come in person to give fingerprints and a photo; no one can act for them",
        "申请人本人前来办理（未满十六周岁的由监护人陪同）",
        "The applicant comes in person (under 16: with a guardian)",
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

#: Kiosk help under a question (the fail reason is shown when there is none).
HELP: dict[str, tuple[str, str]] = {
    "in_person": (
        "不是本人的，可由代理人持授权委托书和代理人身份证代办",
        "Someone else may apply for the applicant with a power of attorney and their own ID card",
    ),
    "agent_docs": (
        "授权委托书须委托人签字；服务台有空白样表",
        "The power of attorney is signed by the applicant; blank forms are at the service desk",
    ),
}

#: The 代办 branch (DOMAIN.md "Rules as real halls run them"): a matter asking "in_person" also asks
#: "agent_docs" after a "no"; its yes adds the power of attorney and the agent's ID card to the checklist, its
#: no puts them on the 一次性告知单 with where to get them. Counted as 代办 in the statistics (`agent`).
AGENT_BRANCH = ("in_person", "agent_docs", ("authorization", "agent_id"))

#: The 承诺书 printed with a 容缺 ticket for the citizen to sign (`Precheck.pledge`).
PLEDGE = (
    "本人申请办理{matter}，现缺少以下材料：{items}。本人承诺于{due}前补齐上述材料；逾期未补齐的，"
    "同意按撤回申请处理，并对所作承诺的真实性负责。"
)
PLEDGE_EN = (
    "I have applied for {matter} without: {items}. I undertake to supply them by {due}; if I do not, the "
    "application is treated as withdrawn. I answer for the truth of this pledge."
)

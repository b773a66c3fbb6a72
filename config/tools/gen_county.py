"""Write config/county.toml: a 28-window county hall modelled on 金寨县政务服务中心 (seeds/003).

Run from the project root: `.venv/bin/python config/tools/gen_county.py`.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from halldata import (
    MatterRow,
    main,
    write_departments,
    write_hall,
    write_header,
    write_matters,
    write_priority,
    write_series,
)
from halltables import write_booking, write_common_tail, write_device, write_zones
from languages import DEPARTMENTS_BO, HALL_BO, HOME_MATTERS, NOTICES
from staffing import write_windows
from tomlwriter import Toml

DEPARTMENTS = [
    ("gongan", "金寨县公安局", "Jinzhai County Public Security Bureau"),
    ("renshe", "金寨县人力资源和社会保障局", "Jinzhai County Human Resources and Social Security Bureau"),
    ("yibao", "金寨县医疗保障局", "Jinzhai County Healthcare Security Bureau"),
    ("budongchan", "金寨县不动产登记中心", "Jinzhai County Real Estate Registration Centre"),
    (
        "gongjijin",
        "六安市住房公积金管理中心金寨县管理部",
        "Lu'an Housing Provident Fund Centre, Jinzhai Office",
    ),
    ("shenpi", "金寨县行政审批局", "Jinzhai County Administrative Approval Bureau"),
    ("shuiwu", "国家税务总局金寨县税务局", "Jinzhai County Tax Bureau"),
    ("minzheng", "金寨县民政局", "Jinzhai County Civil Affairs Bureau"),
    ("tuiyi", "金寨县退役军人事务局", "Jinzhai County Veterans Affairs Bureau"),
    ("nongshang", "金寨农商银行", "Jinzhai Rural Commercial Bank"),
    ("zhongxin", "金寨县政务服务中心", "Jinzhai County Government Service Centre"),
]

SERIES: list[tuple[str, str, str, int | None, int]] = [
    ("A", "户政出入境", "Household registration and exit-entry", None, 20),
    ("B", "社保医保", "Social and medical insurance", None, 30),
    ("C", "不动产登记", "Real estate registration", 120, 40),
    ("D", "住房公积金", "Housing provident fund", None, 30),
    ("E", "企业开办", "Starting a business", None, 30),
    ("F", "税费缴纳", "Taxes and fees", None, 30),
    ("G", "综合服务", "General services", None, 20),
]

M = MatterRow
MATTERS = [
    M("HJ01", "户口迁入登记", "Household registration: moving in", "A", "gongan", "hkqrdj", 12,
      ["idcard", "hukou", "move_permit", "marriage_cert?"], ["in_person"], category="户籍"),
    M("HJ02", "新生儿出生登记", "Birth registration", "A", "gongan", "xsecsdj", 8,
      ["birth_cert", "hukou", "idcard", "marriage_cert~"], category="户籍"),
    M("HJ03", "居民身份证申领换领", "ID card application or renewal", "A", "gongan", "jmsfzslhl", 6,
      ["hukou", "old_idcard?", "photo_receipt~"], ["in_person_only"], category="身份证"),
    M("HJ04", "临时居民身份证申领", "Temporary ID card", "A", "gongan", "lsjmsfzsl", 5,
      ["hukou", "photo"], ["in_person_only"], category="身份证"),
    M("CR01", "普通护照申领", "Passport application", "A", "gongan", "pthzsl", 10,
      ["idcard", "photo_receipt"], ["in_person_only", "adult"], promised=True, category="出入境"),
    M("CR02", "往来港澳通行证及签注", "Hong Kong and Macao travel permit and endorsement", "A", "gongan",
      "wlgatxzjqz", 8, ["idcard", "photo_receipt"], ["in_person_only"], promised=True, category="出入境"),
    M("SB01", "城乡居民养老保险参保登记", "Residents' pension insurance enrolment", "B", "renshe",
      "cxjmylbxcbdj", 8, ["idcard", "hukou", "bank_card~"], ["local"], category="养老保险",
      pledge=False),
    M("SB02", "社会保障卡申领", "Social security card application", "B", "renshe", "shbzksl", 6,
      ["idcard", "photo_receipt~"], category="社保卡"),
    M("SB03", "养老保险关系转移接续", "Pension insurance transfer", "B", "renshe", "ylbxgxzyjx", 15,
      ["idcard", "transfer_form"], promised=True, category="养老保险"),
    M("SB04", "失业保险金申领", "Unemployment benefit claim", "B", "renshe", "sybxjsl", 12,
      ["idcard", "separation_cert", "ss_card~"], ["unemployed_registered", "insured_6m"], promised=True,
      category="失业保险"),
    M("YB01", "医疗费用零星报销", "Reimbursement of medical costs", "B", "yibao", "ylfylxbx", 15,
      ["idcard", "ss_card", "medical_invoice", "medical_record", "referral~"], ["designated"], promised=True,
      category="医疗保险"),
    M("YB02", "异地就医备案", "Registering for treatment elsewhere", "B", "yibao", "ydjyba", 6,
      ["idcard", "ss_card~"], ["local"], category="医疗保险"),
    M("YB03", "城乡居民医保参保登记", "Residents' medical insurance enrolment", "B", "yibao", "cxjmybcbdj", 6,
      ["idcard", "hukou"], ["local"], category="医疗保险"),
    M("BD01", "不动产转移登记（二手房）", "Transfer of title (resale home)", "C", "budongchan", "bdczydj", 25,
      ["idcard", "property_cert", "sale_contract", "tax_paid", "marriage_cert~"], ["no_mortgage",
      "in_person"],
      promised=True, category="不动产"),
    M("BD02", "不动产抵押登记", "Mortgage registration", "C", "budongchan", "bdcdydj", 15,
      ["idcard", "property_cert", "loan_contract"], promised=True, category="不动产"),
    M("BD03", "不动产登记资料查询", "Real estate register search", "C", "budongchan", "bdcdjzlcx", 5,
      ["idcard"], category="不动产"),
    M("GJ01", "住房公积金提取（购房）", "Housing fund withdrawal (home purchase)", "D", "gongjijin",
      "zfgjjtqgf",
      10, ["idcard", "purchase_invoice", "bank_card", "marriage_cert?"], ["no_loan"], category="公积金"),
    M("GJ02", "住房公积金提取（租房）", "Housing fund withdrawal (rent)", "D", "gongjijin", "zfgjjtqzf", 8,
      ["idcard", "lease~", "bank_card"], ["no_loan"], category="公积金"),
    M("GJ03", "住房公积金贷款申请", "Housing fund loan application", "D", "gongjijin", "zfgjjdksq", 30,
      ["idcard", "sale_contract", "income_proof", "credit_report~", "fund_record"], ["insured_6m"],
      promised=True, category="公积金"),
    M("QY01", "企业设立登记", "Company registration", "E", "shenpi", "qysldj", 20,
      ["name_notice", "articles", "premises~", "shareholder_ids"], ["name_declared"], category="企业开办"),
    M("QY02", "企业变更登记", "Company change registration", "E", "shenpi", "qybgdj", 15,
      ["license", "resolution", "legal_rep_id"], category="企业开办"),
    M("QY03", "个体工商户设立登记", "Sole proprietor registration", "E", "shenpi", "gtgshsldj", 10,
      ["idcard", "premises~"], category="企业开办"),
    M("QY04", "食品经营许可", "Food business licence", "E", "shenpi", "spjyxk", 15,
      ["license", "legal_rep_id", "food_layout", "food_safety_rules~"], ["site_ready"], promised=True,
      category="许可"),
    M("SW01", "发票领用", "Collecting invoices", "F", "shuiwu", "fply", 8,
      ["invoice_user", "tax_ukey"], ["no_tax_due"], category="发票"),
    M("SW02", "二手房交易税费申报", "Taxes on a resale home", "F", "shuiwu", "esfjysfsb", 15,
      ["idcard", "sale_contract", "property_cert"], category="房产税费"),
    M("SW03", "完税证明开具", "Tax payment certificate", "F", "shuiwu", "wszmkj", 5,
      ["idcard"], category="证明"),
    M("SW04", "城乡居民社保费缴纳", "Residents' social insurance contributions", "F", "shuiwu",
      "cxjmsbfjn", 5,
      ["idcard"], category="社保费"),
    M("HY01", "结婚登记", "Marriage registration", "G", "minzheng", "jhdj", 15,
      ["idcard", "photo", "no_marriage"], ["both_present", "adult"], category="婚姻"),
    M("HY02", "离婚登记申请", "Divorce registration (application)", "G", "minzheng", "lhdjsq", 20,
      ["idcard", "marriage_cert", "divorce_agreement"], ["both_present"], promised=True, category="婚姻"),
    M("TY01", "退役军人优待证申领", "Veterans' preferential treatment card", "G", "tuiyi", "tyjrydzsl", 8,
      ["idcard", "discharge_cert", "photo_receipt~"], ["discharged"], category="退役军人"),
    M("ZH01", "帮办代办服务", "Assisted and proxy services", "G", "zhongxin", "bbdbfw", 10, [],
      category="帮办代办", bookable=False),
]  # fmt: skip

# Each row: number, name, department, series, A/B partner, zone.
WINDOWS: list[tuple[int, str, str, list[str], int | None, str]] = [
    (1, "户政窗口", "gongan", ["A"], 2, "f1"),
    (2, "户政窗口", "gongan", ["A"], 1, "f1"),
    (3, "出入境窗口", "gongan", ["A"], 4, "f1"),
    (4, "出入境窗口", "gongan", ["A"], 3, "f1"),
    (5, "社保窗口", "renshe", ["B"], 6, "f1"),
    (6, "社保窗口", "renshe", ["B"], 5, "f1"),
    (7, "社保窗口", "renshe", ["B"], None, "f1"),
    (8, "医保窗口", "yibao", ["B"], 9, "f1"),
    (9, "医保窗口", "yibao", ["B"], 8, "f1"),
    (10, "公积金窗口", "gongjijin", ["D"], 11, "f1"),
    (11, "公积金窗口", "gongjijin", ["D"], 10, "f1"),
    (12, "婚姻登记窗口", "minzheng", ["G"], 13, "f1"),
    (13, "退役军人服务窗口", "tuiyi", ["G"], 12, "f1"),
    (14, "综合受理窗口", "zhongxin", ["A", "B", "G"], None, "f1"),
    (15, "企业开办窗口", "shenpi", ["E"], 16, "f2"),
    (16, "企业开办窗口", "shenpi", ["E"], 15, "f2"),
    (17, "企业开办窗口", "shenpi", ["E"], 18, "f2"),
    (18, "许可审批窗口", "shenpi", ["E"], 17, "f2"),
    (19, "不动产登记窗口", "budongchan", ["C"], 20, "f2"),
    (20, "不动产登记窗口", "budongchan", ["C"], 19, "f2"),
    (21, "不动产登记窗口", "budongchan", ["C"], 22, "f2"),
    (22, "不动产登记窗口", "budongchan", ["C"], 21, "f2"),
    (23, "税务窗口", "shuiwu", ["F"], 24, "f2"),
    (24, "税务窗口", "shuiwu", ["F"], 23, "f2"),
    # 一窗受理: the tax window next to real estate also takes 二手房 cases, so a sale needs one queue only.
    (25, "房产交易税费窗口", "shuiwu", ["F", "C"], 26, "f2"),
    (26, "税务窗口", "shuiwu", ["F"], 25, "f2"),
    (27, "银行缴费窗口", "nongshang", ["F"], None, "f2"),
    (28, "综合受理窗口", "zhongxin", ["E", "F", "C"], None, "f2"),
]

#: Windows that take their series in the order listed (bounded so later ones never starve).
STRICT_WINDOWS = (25,)
COUNTERS_WITH_DEVICES = (1, 5, 8, 15, 19, 23)
BUS_URL = "socket://127.0.0.1:9200"
AGENT_BUS_URL = "socket://127.0.0.1:9201"


def build() -> str:
    t = Toml()
    write_header(t, "金寨县政务服务中心 — example county hall (28 window units, seeds/003).", "gen_county.py")
    write_hall(
        t,
        hall_id="jinzhai",
        name="金寨县政务服务中心",
        name_en="Jinzhai County Government Service Centre",
        weekday_hours=("08:30", "17:30"),
        saturday_hours=("09:00", "12:00"),
        public_base_url="http://127.0.0.1:8700",
        notice="周六上午提供预约服务（5+1），请在手机上预约后前来办理。",
        walk_in_saturdays=(dt.date(2026, 12, 19), dt.date(2026, 12, 26)),
        further=({"bo": HALL_BO}, NOTICES),
    )
    write_departments(t, DEPARTMENTS, DEPARTMENTS_BO)
    write_series(t, SERIES)
    write_matters(t, MATTERS, tibetan=True)
    rows = [
        (n, f"{n}号{name}", dept, series, partner, zone) for n, name, dept, series, partner, zone in WINDOWS
    ]
    write_windows(t, rows, strict=STRICT_WINDOWS)
    # 军人依法优先: this county calls military first (at most 2 in a row), where most halls give a head start.
    write_priority(t, absolute=("military",), absolute_in_row=2)
    write_booking(t, default_quota=4, days_ahead=7, bookings_per_week=4)
    write_zones(t, (("f1", "一楼 户政社保区", 1), ("f2", "二楼 企业不动产区", 2)))
    write_stations(t)
    write_common_tail(
        t,
        upload_endpoint="http://127.0.0.1:8790/hcp/evaluate",
        languages=("zh", "en", "bo"),
        home=HOME_MATTERS,
    )
    return t.text()


def write_id_reader(t: Toml, port: int) -> None:
    # The emulated reader of `hallq devices emulate idcard --port N`; a real one is "/dev/ttyUSB1" or
    # type = "idcard-usb" with usb_vendor/usb_product.
    write_device(t, "id_reader", "idcard-serial", url=f"socket://127.0.0.1:{port}", baud=115200)


def write_stations(t: Toml) -> None:
    for n, zone in ((1, "f1"), (2, "f2")):
        t.entry(
            "stations",
            id=f"kiosk-{n}",
            role="kiosk",
            name=f"{'一' if n == 1 else '二'}楼自助取号机",
            zone=zone,
        )
        write_device(t, "printer", "escpos-network", url=f"socket://127.0.0.1:{9100 + n}", width_mm=80)
        write_id_reader(t, 9300 + n)
    t.entry("stations", id="desk-1", role="desk", name="一楼导办台", window=14, zone="f1")
    write_device(t, "printer", "escpos-network", url="socket://127.0.0.1:9103", width_mm=58)
    write_id_reader(t, 9303)
    for number in COUNTERS_WITH_DEVICES:
        t.entry("stations", id=f"counter-{number:02d}", role="counter", window=number)
        for slot, address in (("led", number), ("keypad", 60 + number), ("rating_pad", 120 + number)):
            write_device(t, slot, "hqp", url=BUS_URL, address=address)
    for n, display_zone in ((1, None), (2, "f2")):
        name = "一楼大厅叫号屏" if n == 1 else "二楼叫号屏"
        t.entry("stations", id=f"display-{n}", role="display", name=name, zone=display_zone, voice=True)
    t.entry("stations", id="agent-1", role="agent", name="窗口条屏总线")
    t.comment("Drives the strips of windows whose counter has none of its own, by each window's led_address.")
    write_device(t, "led", "hqp", url=AGENT_BUS_URL)


if __name__ == "__main__":
    main(build, "county.toml")

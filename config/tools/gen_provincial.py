"""Write config/provincial.toml: a 158-window, 44-department hall modelled on 吉林省政务服务中心 (seeds/000).

Run from the project root: `.venv/bin/python config/tools/gen_provincial.py`.
"""

from __future__ import annotations

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
from staffing import write_windows
from tomlwriter import Toml

TOTAL_WINDOWS = 158  # as in the article: 42 departments, 158 windows

# (id, name, name_en, short name for window labels, windows, series)
DEPARTMENTS: list[tuple[str, str, str, str, int, str]] = [
    ("fagai", "吉林省发展和改革委员会", "Development and Reform Commission", "发改", 5, "A"),
    ("nengyuan", "吉林省能源局", "Energy Administration", "能源", 3, "A"),
    ("tongji", "吉林省统计局", "Statistics Bureau", "统计", 2, "A"),
    ("ziran", "吉林省自然资源厅", "Department of Natural Resources", "自然资源", 5, "B"),
    ("linye", "吉林省林业和草原局", "Forestry and Grassland Administration", "林草", 3, "B"),
    ("zhujian", "吉林省住房和城乡建设厅", "Department of Housing and Urban-Rural Development", "住建", 7,
      "C"),
    ("shuili", "吉林省水利厅", "Department of Water Resources", "水利", 4, "C"),
    ("renfang", "吉林省人民防空办公室", "Civil Air Defence Office", "人防", 2, "C"),
    ("qixiang", "吉林省气象局", "Meteorological Bureau", "气象", 2, "C"),
    ("dizhen", "吉林省地震局", "Earthquake Administration", "地震", 1, "C"),
    ("shengtai", "吉林省生态环境厅", "Department of Ecology and Environment", "生态环境", 5, "D"),
    ("shichang", "吉林省市场监督管理厅", "Administration for Market Regulation", "市场监管", 7, "E"),
    ("shangwu", "吉林省商务厅", "Department of Commerce", "商务", 4, "E"),
    ("jinrong", "吉林省地方金融监督管理局", "Local Financial Supervision Administration", "金融", 2, "E"),
    ("zhishi", "吉林省知识产权局", "Intellectual Property Office", "知识产权", 2, "E"),
    ("yancao", "吉林省烟草专卖局", "Tobacco Monopoly Administration", "烟草", 2, "E"),
    ("yaojian", "吉林省药品监督管理局", "Medical Products Administration", "药监", 5, "F"),
    ("weijian", "吉林省卫生健康委员会", "Health Commission", "卫健", 5, "G"),
    ("jiaoyu", "吉林省教育厅", "Department of Education", "教育", 3, "G"),
    ("keji", "吉林省科学技术厅", "Department of Science and Technology", "科技", 2, "G"),
    ("tiyu", "吉林省体育局", "Sports Bureau", "体育", 2, "G"),
    ("wenlv", "吉林省文化和旅游厅", "Department of Culture and Tourism", "文旅", 4, "H"),
    ("guangdian", "吉林省广播电视局", "Radio and Television Administration", "广电", 2, "H"),
    ("chuban", "吉林省新闻出版局", "Press and Publication Administration", "新闻出版", 2, "H"),
    ("nongye", "吉林省农业农村厅", "Department of Agriculture and Rural Affairs", "农业农村", 5, "J"),
    ("liangshi", "吉林省粮食和物资储备局", "Grain and Material Reserve Bureau", "粮食", 2, "J"),
    ("jiaotong", "吉林省交通运输厅", "Department of Transport", "交通", 5, "K"),
    ("renshe", "吉林省人力资源和社会保障厅", "Department of Human Resources and Social Security", "人社", 7,
      "L"),
    ("minzheng", "吉林省民政厅", "Department of Civil Affairs", "民政", 3, "L"),
    ("tuiyi", "吉林省退役军人事务厅", "Department of Veterans Affairs", "退役军人", 2, "L"),
    ("yibao", "吉林省医疗保障局", "Healthcare Security Administration", "医保", 4, "L"),
    ("gongan", "吉林省公安厅", "Department of Public Security", "公安", 5, "M"),
    ("sifa", "吉林省司法厅", "Department of Justice", "司法", 3, "M"),
    ("minzong", "吉林省民族宗教事务委员会", "Ethnic and Religious Affairs Commission", "民宗", 2, "M"),
    ("shuiwu", "国家税务总局吉林省税务局", "Jilin Provincial Tax Service", "税务", 7, "N"),
    ("caizheng", "吉林省财政厅", "Department of Finance", "财政", 3, "N"),
    ("gongjijin", "吉林省省直住房公积金管理分中心", "Housing Provident Fund Branch for Provincial Organs",
      "公积金", 5, "P"),
    ("waiban", "吉林省人民政府外事办公室", "Foreign Affairs Office", "外事", 2, "Q"),
    ("dangan", "吉林省档案馆", "Provincial Archives", "档案", 2, "Q"),
    ("jiaoyi", "吉林省公共资源交易中心", "Public Resources Trading Centre", "公共资源交易", 3, "Q"),
    ("gongxin", "吉林省工业和信息化厅", "Department of Industry and Information Technology", "工信", 3, "R"),
    ("yingji", "吉林省应急管理厅", "Department of Emergency Management", "应急", 4, "R"),
    ("tongxin", "吉林省通信管理局", "Communications Administration", "通信", 2, "R"),
    # The hall's own windows: 综合受理 (one window, many series), 114 阳光政务热线 follow-up and complaints.
    ("zhengwu", "吉林省政务服务和数字化建设管理局", "Government Services and Digital Development Bureau",
      "综合受理", 0, "Q"),
]  # fmt: skip

SERIES: list[tuple[str, str, str, int | None, int]] = [
    ("A", "投资项目", "Investment projects", None, 40),
    ("B", "自然资源", "Natural resources", None, 40),
    ("C", "工程建设", "Construction projects", None, 40),
    ("D", "生态环境", "Ecology and environment", None, 40),
    ("E", "市场准入", "Market access", None, 30),
    ("F", "药品医疗器械", "Drugs and medical devices", None, 40),
    ("G", "卫生教育科技", "Health, education and science", None, 30),
    ("H", "文化旅游出版", "Culture, tourism and publishing", None, 30),
    ("J", "农业粮食", "Agriculture and grain", None, 30),
    ("K", "交通运输", "Transport", None, 30),
    ("L", "人社民政医保", "Human resources, civil affairs and medical insurance", None, 30),
    ("M", "公安司法", "Public security and justice", None, 30),
    ("N", "税务财政", "Taxes and public finance", None, 30),
    ("P", "住房公积金", "Housing provident fund", 300, 30),
    ("Q", "公共服务", "Public services", None, 20),
    ("R", "安全生产与通信", "Work safety and telecoms", None, 40),
]

# 综合受理 windows: each takes several series, so a quiet series never leaves a window idle.
COMBINED = [
    ["A", "B", "C"],
    ["C", "D", "K"],
    ["E", "F", "H"],
    ["G", "L", "P"],
    ["M", "N", "Q"],
    ["J", "R", "E"],
]

ENTERPRISE = ["application", "license", "legal_rep_id"]
M = MatterRow
MATTERS = [
    M("FG01", "企业投资项目核准", "Approval of enterprise investment projects", "A", "fagai", "qytzxmhz", 30,
      [*ENTERPRISE, "project_application", "land_use", "eia_report~"], ["no_violation"], promised=True),
    M("FG02", "政府投资项目可行性研究报告审批", "Feasibility study approval (government investment)", "A",
      "fagai", "zftzxmkxxyjbgsp", 30, ["application", "feasibility", "land_use", "energy_report~"],
      ["project_filed"], promised=True),
    M("FG03", "固定资产投资项目节能审查", "Energy review of fixed-asset investment", "A", "fagai",
      "gdzctzxmjnsc", 20, [*ENTERPRISE, "energy_report"], promised=True),
    M("NY01", "电力业务许可（发电类）", "Electricity business licence (generation)", "A", "nengyuan",
      "dlywxk", 20, [*ENTERPRISE, "equipment_list", "safety_plan"], promised=True),
    M("NY02", "石油天然气管道建设项目核准", "Oil and gas pipeline project approval", "A", "nengyuan",
      "sytrqgdjsxmhz", 25, ["application", "project_application", "land_use", "eia_report~"], promised=True),
    M("TJ01", "涉外调查机构资格认定", "Accreditation of foreign-related survey agencies", "A", "tongji",
      "swdcjgzgrd", 15, [*ENTERPRISE, "stat_form"], promised=True),
    M("TJ02", "统计调查项目审批", "Approval of statistical surveys", "A", "tongji", "tjdcxmsp", 15,
      ["application", "stat_form"], promised=True),
    M("ZR01", "建设项目用地预审与选址意见书核发", "Land pre-examination and site selection", "B", "ziran",
      "jsxmydysyxzyjshf", 25, ["application", "project_application", "survey"], ["project_filed"],
      promised=True),
    M("ZR02", "建设用地规划许可证核发", "Land use planning permit", "B", "ziran", "jsydghxkzhf", 25,
      [*ENTERPRISE, "land_use", "survey"], promised=True),
    M("ZR03", "采矿权登记", "Mining right registration", "B", "ziran", "ckqdj", 25,
      [*ENTERPRISE, "safety_assess", "eia_report"], promised=True),
    M("ZR04", "测绘资质审批", "Surveying and mapping qualification", "B", "ziran", "chzzsp", 15,
      [*ENTERPRISE, "qualification", "equipment_list"], promised=True),
    M("LY01", "使用林地审核", "Approval to use forest land", "B", "linye", "syldsh", 20,
      ["application", "forest_survey", "land_use"], ["project_filed"], promised=True),
    M("LY02", "林木采伐许可证核发", "Logging permit", "B", "linye", "lmcfxkzhf", 10,
      ["application", "forest_survey"], promised=True),
    M("ZJ01", "建筑业企业资质核准", "Construction enterprise qualification", "C", "zhujian", "jzyqyzzhz", 25,
      [*ENTERPRISE, "qualification", "equipment_list~"], ["no_violation"], promised=True),
    M("ZJ02", "建筑工程施工许可证核发", "Building construction permit", "C", "zhujian", "jzgcsgxkzhf", 20,
      ["application", "planning_permit", "design_review", "contract_filing", "safety_plan~"],
      ["project_filed"], promised=True),
    M("ZJ03", "建筑施工企业安全生产许可", "Work safety licence for builders", "C", "zhujian", "jzsgqyaqscxk",
      20, [*ENTERPRISE, "safety_plan", "qualification"], promised=True),
    M("ZJ04", "工程监理企业资质认定", "Construction supervision qualification", "C", "zhujian", "gcjlqyzzrd",
      20, [*ENTERPRISE, "qualification"], promised=True),
    M("SL01", "取水许可", "Water abstraction permit", "C", "shuili", "qsxk", 20,
      [*ENTERPRISE, "water_plan"], promised=True),
    M("SL02", "水利工程建设项目初步设计审批", "Preliminary design approval of water projects", "C", "shuili",
      "slgcjsxmcbsjsp", 30, ["application", "feasibility", "design_review~"],
      ["project_filed"], promised=True),
    M("RF01", "人防工程建设审批", "Civil air defence works approval", "C", "renfang", "rfgcjssp", 15,
      ["application", "civil_defense", "planning_permit"], promised=True),
    M("QX01", "防雷装置设计审核", "Lightning protection design review", "C", "qixiang", "flzzsjsh", 10,
      [*ENTERPRISE, "lightning_design"], promised=True),
    M("DZ01", "建设工程地震安全性评价结果审定", "Seismic safety evaluation review", "C", "dizhen",
      "jsgcdzaqxpjjgsd", 20, ["application", "seismic_report"], promised=True),
    M("ST01", "建设项目环境影响评价文件审批", "Environmental impact assessment approval", "D", "shengtai",
      "jsxmhjyxpjwjsp", 30, [*ENTERPRISE, "eia_report", "project_application~"], ["project_filed"],
      promised=True),
    M("ST02", "排污许可证核发", "Pollutant discharge permit", "D", "shengtai", "pwxkzhf", 20,
      [*ENTERPRISE, "eia_report", "equipment_list~"], promised=True),
    M("ST03", "危险废物经营许可证核发", "Hazardous waste business licence", "D", "shengtai",
      "wxfwjyxkzhf", 25,
      [*ENTERPRISE, "safety_plan", "equipment_list", "qualification"], ["no_violation"], promised=True),
    M("SC01", "企业设立登记（内资公司）", "Company registration (domestic)", "E", "shichang", "qysldj", 20,
      ["name_notice", "articles", "premises~", "shareholder_ids"], ["name_declared"]),
    M("SC02", "外商投资企业设立登记", "Registration of a foreign-invested company", "E", "shichang",
      "wstzqysldj", 25, ["name_notice", "articles", "premises~", "shareholder_ids", "foreign_invest"],
      ["name_declared"]),
    M("SC03", "企业变更登记", "Company change registration", "E", "shichang", "qybgdj", 15,
      ["license", "resolution", "legal_rep_id"]),
    M("SC04", "特种设备生产单位许可", "Special equipment manufacturing licence", "E", "shichang",
      "tzsbscdwxk",
      20, [*ENTERPRISE, "qualification", "equipment_list"], promised=True),
    M("SC05", "工业产品生产许可证", "Industrial product production licence", "E", "shichang", "gycpscxkz", 20,
      [*ENTERPRISE, "equipment_list", "qualification~"], promised=True),
    M("SH01", "对外贸易经营者备案登记", "Foreign trade operator filing", "E", "shangwu", "dwmyjyzbadj", 8,
      ENTERPRISE),
    M("SH02", "外商投资企业设立及变更备案", "Foreign-invested enterprise filing", "E", "shangwu",
      "wstzqysljbgba", 10, ["license", "foreign_invest"]),
    M("SH03", "单用途商业预付卡备案", "Single-purpose prepaid card filing", "E", "shangwu", "dytsyyfkba", 10,
      ENTERPRISE),
    M("JR01", "小额贷款公司设立审批", "Microcredit company approval", "E", "jinrong", "xedkgsslsp", 30,
      ["application", "finance_license", "capital_proof", "shareholder_ids"],
      ["no_violation"], promised=True),
    M("ZS01", "专利权质押登记", "Patent pledge registration", "E", "zhishi", "zlqzydj", 10,
      ["patent_application", "idcard?", "license?"]),
    M("YC01", "烟草专卖零售许可证核发", "Tobacco retail licence", "E", "yancao", "yczmlsxkzhf", 10,
      ["application", "idcard", "premises", "tobacco_location"], ["site_ready"], promised=True),
    M("YJ01", "药品生产许可证核发", "Drug manufacturing licence", "F", "yaojian", "ypscxkzhf", 30,
      [*ENTERPRISE, "gmp_report", "drug_quality", "qualification"], ["no_violation"], promised=True),
    M("YJ02", "药品批发企业许可", "Drug wholesale licence", "F", "yaojian", "ypplqyxk", 25,
      [*ENTERPRISE, "drug_quality", "pharmacist"], promised=True),
    M("YJ03", "第二类医疗器械注册", "Class II medical device registration", "F", "yaojian", "delylqxzc", 25,
      [*ENTERPRISE, "drug_quality", "equipment_list~"], promised=True),
    M("YJ04", "第三类医疗器械经营许可", "Class III medical device trading licence", "F", "yaojian",
      "dslylqxjyxk", 20, [*ENTERPRISE, "premises", "qualification"], promised=True),
    M("WJ01", "医疗机构执业登记", "Medical institution registration", "G", "weijian", "yljgzydj", 25,
      ["application", "license?", "medical_staff", "premises", "equipment_list"], promised=True),
    M("WJ02", "医师执业注册", "Physician registration", "G", "weijian", "yszyzc", 10,
      ["idcard", "photo", "qualification", "application"], ["in_person"]),
    M("WJ03", "放射诊疗许可", "Radiological diagnosis and treatment licence", "G", "weijian", "fszlxk", 20,
      ["application", "medical_staff", "equipment_list", "safety_assess"], promised=True),
    M("JY01", "中外合作办学机构设立审批", "Sino-foreign cooperative school approval", "G", "jiaoyu",
      "zwhzbxjgslsp", 30, ["application", "school_plan", "capital_proof", "shareholder_ids"], promised=True),
    M("JY02", "教师资格认定", "Teacher qualification certification", "G", "jiaoyu", "jszgrd", 10,
      ["idcard", "photo", "application", "qualification~"], ["in_person"], promised=True),
    M("KJ01", "科技成果登记", "Registration of research results", "G", "keji", "kjcgdj", 10,
      ["application", "science_report"]),
    M("KJ02", "外国人来华工作许可", "Work permit for foreigners", "G", "keji", "wgrlhgzxk", 20,
      [*ENTERPRISE, "foreign_passport", "qualification"], promised=True),
    M("TI01", "高危险性体育项目经营许可", "High-risk sports business licence", "G", "tiyu",
      "gwxxtyxmjyxk", 15,
      [*ENTERPRISE, "sports_venue", "qualification"], ["site_ready"], promised=True),
    M("WL01", "营业性演出许可", "Commercial performance licence", "H", "wenlv", "yyxycxk", 15,
      [*ENTERPRISE, "culture_plan"], promised=True),
    M("WL02", "旅行社业务经营许可", "Travel agency licence", "H", "wenlv", "lxsywjyxk", 15,
      [*ENTERPRISE, "premises", "capital_proof~"], promised=True),
    M("GD01", "广播电视节目制作经营许可", "TV programme production licence", "H", "guangdian", "gbdsjmzzjyxk",
      15, [*ENTERPRISE, "program_plan", "qualification"], promised=True),
    M("CB01", "出版物批发业务许可", "Publication wholesale licence", "H", "chuban", "cbwpfywxk", 15,
      [*ENTERPRISE, "premises"], promised=True),
    M("CB02", "印刷经营许可", "Printing business licence", "H", "chuban", "ysjyxk", 15,
      [*ENTERPRISE, "equipment_list", "premises"], promised=True),
    M("NC01", "农作物种子生产经营许可证核发", "Crop seed production licence", "J", "nongye",
      "nzwzzscjyxkzhf", 20,
      [*ENTERPRISE, "equipment_list", "qualification"], promised=True),
    M("NC02", "兽药经营许可证核发", "Veterinary drug trading licence", "J", "nongye", "syjyxkzhf", 15,
      [*ENTERPRISE, "qualification", "premises"], promised=True),
    M("NC03", "农药经营许可证核发", "Pesticide trading licence", "J", "nongye", "nyjyxkzhf", 15,
      [*ENTERPRISE, "premises", "safety_plan~"], promised=True),
    M("LS01", "粮食收购资格备案", "Grain purchasing filing", "J", "liangshi", "lssgzgba", 8,
      [*ENTERPRISE, "grain_storage"]),
    M("JT01", "道路旅客运输经营许可", "Road passenger transport licence", "K", "jiaotong", "dllkysjyxk", 20,
      [*ENTERPRISE, "vehicle_list", "safety_plan", "qualification~"], promised=True),
    M("JT02", "公路建设项目施工许可", "Highway construction permit", "K", "jiaotong", "gljsxmsgxk", 20,
      ["application", "design_review", "contract_filing", "safety_plan"], ["project_filed"], promised=True),
    M("JT03", "超限运输车辆行驶公路许可", "Oversize vehicle road permit", "K", "jiaotong", "cxysclxsglxk", 10,
      ["application", "vehicle_list", "license"]),
    M("RS01", "人力资源服务许可", "Human resources service licence", "L", "renshe", "rlzyfwxk", 15,
      [*ENTERPRISE, "premises", "qualification"], promised=True),
    M("RS02", "劳务派遣经营许可", "Labour dispatch licence", "L", "renshe", "lwpqjyxk", 20,
      [*ENTERPRISE, "capital_proof", "premises"], promised=True),
    M("RS03", "企业职工养老保险关系转移", "Employee pension insurance transfer", "L", "renshe",
      "qyzgylbxgxzy",
      15, ["idcard", "transfer_form"], promised=True),
    M("RS04", "社会保障卡补换", "Social security card replacement", "L", "renshe", "shbzkbh", 6,
      ["idcard", "photo_receipt~"]),
    M("RS05", "专业技术人员职称评审申报", "Professional title application", "L", "renshe", "zyjsryzcpssb", 15,
      ["idcard", "qualification", "application"], promised=True),
    M("MZ01", "涉外婚姻登记", "Marriage registration with a foreign national", "L", "minzheng", "swhydj", 20,
      ["idcard", "hukou", "foreign_passport", "single_cert_foreign", "photo"], ["both_present",
      "foreign_party"]),
    M("MZ02", "社会团体成立登记", "Registration of a social organisation", "L", "minzheng", "shttcldj", 20,
      ["application", "capital_proof", "premises", "legal_rep_id"], promised=True),
    M("MZ03", "民办非企业单位登记", "Registration of a private non-enterprise unit", "L", "minzheng",
      "mbfqydwdj", 20, ["application", "capital_proof", "premises", "legal_rep_id"], promised=True),
    M("TY01", "退役军人优待证申领", "Veterans' preferential treatment card", "L", "tuiyi", "tyjrydzsl", 8,
      ["idcard", "discharge_cert", "photo_receipt~"], ["discharged"]),
    M("TY02", "退役军人档案接收", "Veterans' file transfer", "L", "tuiyi", "tyjrdajs", 10,
      ["idcard", "discharge_cert"]),
    M("YB01", "异地就医备案", "Registering for treatment elsewhere", "L", "yibao", "ydjyba", 6,
      ["idcard", "ss_card~"], ["local"]),
    M("YB02", "医疗费用手工报销", "Manual reimbursement of medical costs", "L", "yibao", "ylfysgbx", 15,
      ["idcard", "ss_card", "medical_invoice", "medical_record", "referral~"], ["designated"], promised=True),
    M("YB03", "定点医疗机构申请", "Application to become a designated hospital", "L", "yibao", "ddyljgsq", 20,
      [*ENTERPRISE, "medical_staff", "equipment_list"], promised=True),
    M("GA01", "普通护照申领", "Passport application", "M", "gongan", "pthzsl", 10,
      ["idcard", "photo_receipt"], ["in_person_only", "adult"], promised=True),
    M("GA02", "往来台湾通行证及签注", "Taiwan travel permit and endorsement", "M", "gongan", "wltwtxzjqz", 8,
      ["idcard", "photo_receipt"], ["in_person_only"], promised=True),
    M("GA03", "外国人居留许可", "Residence permit for foreigners", "M", "gongan", "wgrjlxk", 15,
      ["application", "foreign_passport", "photo_receipt", "qualification?"], ["in_person_only"],
      promised=True),
    M("GA04", "保安服务公司设立许可", "Security service company licence", "M", "gongan", "bafwgsslxk", 20,
      ["application", "capital_proof", "legal_rep_id", "qualification"], ["no_violation"], promised=True),
    M("GA05", "户口迁入审批（省外）", "Household registration: moving in from another province", "M",
      "gongan", "hkqrsp", 12, ["idcard", "hukou", "move_permit"], ["in_person"], promised=True),
    M("SF01", "律师执业许可", "Lawyer's practising licence", "M", "sifa", "lszyxk", 15,
      ["idcard", "photo", "lawyer_cert", "application"], promised=True),
    M("SF02", "公证员执业审核", "Notary appointment review", "M", "sifa", "gzyzysh", 15,
      ["idcard", "lawyer_cert", "application"], promised=True),
    M("SF03", "司法鉴定机构登记", "Forensic institution registration", "M", "sifa", "sfjdjgdj", 20,
      ["application", "qualification", "equipment_list", "premises"], promised=True),
    M("MW01", "宗教活动场所设立审批", "Approval of a place of religious activity", "M", "minzong",
      "zjhdcsslsp",
      20, ["application", "ethnic_approval", "premises"], promised=True),
    M("SW01", "发票领用", "Collecting invoices", "N", "shuiwu", "fply", 8,
      ["invoice_user", "tax_ukey"], ["no_tax_due"]),
    M("SW02", "出口退（免）税备案", "Export tax refund filing", "N", "shuiwu", "cktmsba", 10,
      ["application", "license"]),
    M("SW03", "非居民企业所得税汇算清缴", "Annual income tax filing for non-resident enterprises", "N",
      "shuiwu", "fjmqysdshsqj", 15, ENTERPRISE, promised=True),
    M("SW04", "完税证明开具", "Tax payment certificate", "N", "shuiwu", "wszmkj", 5, ["idcard"]),
    M("SW05", "税务注销", "Tax deregistration", "N", "shuiwu", "swzx", 15,
      ["license", "application", "resolution"], ["no_tax_due"], promised=True),
    M("CZ01", "非税收入票据领用", "Collecting non-tax revenue receipts", "N", "caizheng", "fssrpjly", 8,
      ["fiscal_form", "legal_rep_id"]),
    M("CZ02", "会计师事务所执业许可", "Accounting firm licence", "N", "caizheng", "kjsswszyxk", 20,
      ["application", "qualification", "premises", "license?"], promised=True),
    M("GJ01", "住房公积金提取（购房）", "Housing fund withdrawal (home purchase)", "P", "gongjijin",
      "zfgjjtqgf",
      10, ["idcard", "purchase_invoice", "bank_card", "marriage_cert?"], ["no_loan"]),
    M("GJ02", "住房公积金提取（租房）", "Housing fund withdrawal (rent)", "P", "gongjijin", "zfgjjtqzf", 8,
      ["idcard", "lease~", "bank_card"], ["no_loan"]),
    M("GJ03", "住房公积金提取（离退休）", "Housing fund withdrawal (retirement)", "P", "gongjijin",
      "zfgjjtqltx", 8, ["idcard", "bank_card", "application"]),
    M("GJ04", "住房公积金个人住房贷款", "Housing fund home loan", "P", "gongjijin", "zfgjjgrzfdk", 30,
      ["idcard", "sale_contract", "income_proof", "credit_report~", "fund_record"], ["insured_6m"],
      promised=True),
    M("GJ05", "单位住房公积金缴存登记", "Employer housing fund registration", "P", "gongjijin",
      "dwzfgjjjcdj", 10, ENTERPRISE),
    M("WB01", "邀请外国人来华审批", "Approval to invite foreigners to China", "Q", "waiban", "yqwgrlhsp", 10,
      [*ENTERPRISE, "foreign_passport"], promised=True),
    M("WB02", "因公临时出国（境）任务审批", "Approval of official trips abroad", "Q", "waiban", "yglscgjrwsp",
      10, ["application", "idcard"], promised=True),
    M("DA01", "档案查阅利用", "Archive access", "Q", "dangan", "dacyly", 10, ["idcard", "archive_letter~"]),
    M("GG01", "工程建设项目招标文件备案", "Filing of construction tender documents", "Q", "jiaoyi",
      "gcjsxmzbwjba", 15, ["bid_docs", "license", "legal_rep_id?"]),
    M("GG02", "政府采购项目进场交易登记", "Registering a government procurement for trading", "Q", "jiaoyi",
      "zfcgxmjcjydj", 10, ["bid_docs", "application"]),
    M("ZW01", "政府信息依申请公开", "Request for government information", "Q", "zhengwu", "zfxxysqgk", 10,
      ["idcard", "application"], promised=True),
    M("ZW02", "审批事项监察投诉", "Complaints about approvals", "Q", "zhengwu", "spsxjcts", 15, ["idcard?"],
      bookable=False),
    M("ZW03", "帮办代办服务", "Assisted and proxy services", "Q", "zhengwu", "bbdbfw", 10,
      [], bookable=False),
    M("GX01", "民用爆炸物品生产许可", "Civil explosives production licence", "R", "gongxin", "mybzwpscxk", 25,
      [*ENTERPRISE, "safety_assess", "equipment_list"], ["no_violation"], promised=True),
    M("GX02", "技术改造项目备案", "Technical renovation project filing", "R", "gongxin", "jsgzxmba", 10,
      [*ENTERPRISE, "feasibility~"]),
    M("AQ01", "危险化学品经营许可证核发", "Hazardous chemicals trading licence", "R", "yingji",
      "wxhxpjyxkzhf",
      20, [*ENTERPRISE, "safety_assess", "safety_plan", "qualification"], ["no_violation"], promised=True),
    M("AQ02", "非煤矿山安全生产许可", "Work safety licence for non-coal mines", "R", "yingji",
      "fmksaqscxk", 25,
      [*ENTERPRISE, "safety_assess", "safety_plan"], promised=True),
    M("TX01", "增值电信业务经营许可", "Value-added telecom licence", "R", "tongxin", "zzdxywjyxk", 20,
      [*ENTERPRISE, "telecom_plan", "capital_proof"], promised=True),
]  # fmt: skip

ZONES = [("1e", "一楼东区", 1), ("1w", "一楼西区", 1), ("2e", "二楼东区", 2), ("2w", "二楼西区", 2)]
DEVICE_BUS = "socket://127.0.0.1:9200"


def windows() -> list[tuple[int, str, str, list[str], int | None, str]]:
    """(number, name, department, series, partner, zone): departments side by side, A/B岗 in pairs."""
    rows: list[tuple[int, str, str, list[str], int | None, str]] = []
    staffed = sum(d[4] for d in DEPARTMENTS)
    per_zone = -(-TOTAL_WINDOWS // len(ZONES))
    number = 1
    combined = TOTAL_WINDOWS - staffed
    assert combined >= 2, "the departments' windows leave no room for 综合受理 windows"
    for dept_id, _name, _en, short, staffed_count, series in DEPARTMENTS:
        count = combined if dept_id == "zhengwu" else staffed_count
        first = number
        for k in range(count):
            if dept_id == "zhengwu":
                served = COMBINED[k % len(COMBINED)] if k < count - 1 else ["Q"]
                label = "综合受理窗口" if k < count - 1 else "投诉咨询窗口"
            else:
                served, label = [series], f"{short}窗口"
            if count == 1:
                partner = None
            elif k % 2 == 0:
                partner = number + 1 if k + 1 < count else first
            else:
                partner = number - 1
            zone = ZONES[min((number - 1) // per_zone, len(ZONES) - 1)][0]
            rows.append((number, f"{number}号{label}", dept_id, served, partner, zone))
            number += 1
    return rows


def build() -> str:
    t = Toml()
    title = "吉林省政务服务中心 — example provincial hall (42+ departments, 158 windows, seeds/000)."
    write_header(t, title, "gen_provincial.py")
    write_hall(
        t,
        hall_id="jilin-province",
        name="吉林省政务服务中心",
        name_en="Jilin Provincial Government Service Centre",
        weekday_hours=("08:30", "17:00"),
        saturday_hours=("09:00", "16:00"),
        public_base_url="http://127.0.0.1:8700",
        notice="一次性告知，最多跑一次。周六预约办理（5+1），法定节假日除外。",
        # seeds/004 (Changchun): Saturdays 9:00-16:00 正常受理, booked matters planned first, 咨询 for all.
        saturday_walk_ins=("Q",),
        at_close="carry",
        summer=("06-01", "08-31", (("08:30", "12:00"), ("13:30", "17:30"))),
    )
    write_departments(t, [(d[0], d[1], d[2]) for d in DEPARTMENTS])
    write_series(t, SERIES)
    write_matters(t, MATTERS)
    write_windows(t, windows())
    write_priority(t)
    write_booking(t, default_quota=6, days_ahead=14, bookings_per_week=5)
    write_zones(t, ZONES)
    write_stations(t)
    write_common_tail(t, upload_endpoint="http://127.0.0.1:8790/hcp/evaluate")
    return t.text()


def write_stations(t: Toml) -> None:
    for n in range(1, 7):
        zone = ZONES[(n - 1) % len(ZONES)]
        t.entry("stations", id=f"kiosk-{n}", role="kiosk", name=f"{zone[1]}自助取号机", zone=zone[0])
        write_device(t, "printer", "escpos-network", url=f"socket://127.0.0.1:{9100 + n}")
    rows = windows()
    combined = [number for number, _, dept, *_ in rows if dept == "zhengwu"]
    for n, number in enumerate(combined[:2], start=1):
        t.entry("stations", id=f"desk-{n}", role="desk", name=f"导办台{n}", window=number)
        write_device(t, "printer", "escpos-network", url=f"socket://127.0.0.1:{9110 + n}", width_mm=58)
    # One demo bus for the counters with their own devices: strips keep the window's address, keypads and
    # rating pads take 200+ and 220+ so every address on the bus stays unique.
    for i, number in enumerate((1, 2, 40, 41, 80, 81, 120, 121)):
        t.entry("stations", id=f"counter-{number:03d}", role="counter", window=number)
        for slot, address in (("led", number), ("keypad", 200 + i), ("rating_pad", 220 + i)):
            write_device(t, slot, "hqp", url=DEVICE_BUS, address=address)
    t.entry("stations", id="display-main", role="display", name="一楼大厅主屏", voice=True)
    for zone_id, name, _ in ZONES:
        t.entry("stations", id=f"display-{zone_id}", role="display", name=f"{name}叫号屏", zone=zone_id)
    for n, (zone_id, name, _) in enumerate(ZONES, start=1):
        t.entry("stations", id=f"agent-{zone_id}", role="agent", name=f"{name}窗口条屏总线", zone=zone_id)
        write_device(t, "led", "hqp", url=f"socket://127.0.0.1:{9200 + n}", baud=19200)


if __name__ == "__main__":
    main(build, "provincial.toml")

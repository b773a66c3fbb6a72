"""The example county hall's further kiosk languages (`kiosk.languages`), for its generator: Tibetan names of
the hall, its notice, the departments, the home screen's matters and their questions and materials.

MACHINE-DRAFTED, NEEDS REVIEW: these Tibetan (bo) texts were drafted by machine as a layout example (a
Qinghai or Tibet hall guides in Tibetan); a native speaker must check every one before a hall uses them.
What is not listed here reads in Chinese on the kiosk.
"""

from __future__ import annotations

#: The home screen's tiles, most used first (the first is the scripted citizen's matter in the tests).
HOME_MATTERS = ("HJ01", "HJ03", "CR01", "SB02", "YB02", "BD01", "GJ01", "SW04")

#: Pictures beside materials on the kiosk's checklist (hallcore.configlang.MATERIAL_ICONS).
MATERIAL_ICONS = {
    "idcard": "idcard",
    "old_idcard": "idcard",
    "agent_id": "idcard",
    "legal_rep_id": "idcard",
    "hukou": "booklet",
    "photo": "photo",
    "photo_receipt": "photo",
    "bank_card": "card",
    "ss_card": "card",
    "marriage_cert": "certificate",
    "birth_cert": "certificate",
    "property_cert": "certificate",
    "move_permit": "document",
    "authorization": "contract",
    "sale_contract": "contract",
    "loan_contract": "contract",
}

HALL_BO = "ཅིན་ཙའེ་རྫོང་སྲིད་གཞུང་ཞབས་ཞུ་ལྟེ་གནས།"
NOTICES = {
    "en": "Saturday mornings are for bookings (5+1): book on your phone, then come in.",
    "bo": "གཟའ་སྤེན་པའི་སྔ་དྲོར་སྔོན་འཆར་ཞབས་ཞུ་ཡོད། ཁ་པར་ཐོག་ནས་སྔོན་འཆར་བྱས་རྗེས་ཕེབས་རོགས།",
}

DEPARTMENTS_BO = {
    "gongan": "ཅིན་ཙའེ་རྫོང་སྤྱི་བདེ་ཅུས།",
    "renshe": "ཅིན་ཙའེ་རྫོང་མི་ཤུགས་ཐོན་ཁུངས་དང་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས།",
    "yibao": "ཅིན་ཙའེ་རྫོང་གསོ་བཅོས་འགན་སྲུང་ཅུས།",
    "budongchan": "ཅིན་ཙའེ་རྫོང་མི་འགུལ་རྒྱུ་ནོར་ཐོ་འགོད་ལྟེ་གནས།",
    "gongjijin": "ཁང་བཟོའི་མཉམ་འཛོམས་དངུལ་ཅིན་ཙའེ་ལས་ཁུངས།",
    "shuiwu": "ཅིན་ཙའེ་རྫོང་ཁྲལ་དོན་ཅུས།",
}

MATTERS_BO = {
    "HJ01": "ཐེམ་ཐོ་སྤོ་འཇུག་ཐོ་འགོད།",
    "HJ03": "ཡུལ་མིའི་ལག་ཁྱེར་ཞུ་ལེན་དང་བརྗེ་ལེན།",
    "CR01": "སྤྱིར་བཏང་ཕྱི་ཐོན་ལག་ཁྱེར་ཞུ་ལེན།",
    "SB02": "སྤྱི་ཚོགས་འགན་སྲུང་ཁཱ་ཞུ་ལེན།",
    "YB02": "ས་གནས་གཞན་དུ་སྨན་བཅོས་ཐོ་འགོད།",
    "BD01": "མི་འགུལ་རྒྱུ་ནོར་སྤོ་སྒྱུར་ཐོ་འགོད། (ཁང་པ་ལག་གཉིས་མ།)",
    "GJ01": "ཁང་བཟོའི་མཉམ་འཛོམས་དངུལ་ལེན་པ། (ཁང་པ་ཉོ་བ།)",
    "SW04": "གྲོང་ཁྱེར་དང་གྲོང་གསེབ་ཀྱི་སྤྱི་འགན་གླ་ཆ་སྤྲོད་པ།",
}

QUESTIONS_BO = {
    "in_person": "ཞུ་གཏུགས་པ་རང་ཉིད་འདིར་ཡོད་དམ།",
    "agent_docs": "དབང་སྤྲོད་ཡི་གེ་དང་ཁྱེད་རང་གི་ལག་ཁྱེར་ཁྱེར་ཡོད་དམ།",
    "in_person_only": "ཞུ་གཏུགས་པ་རང་ཉིད་འདིར་ཡོད་དམ།",
    "adult": "ཞུ་གཏུགས་པ་ལོ་བཅོ་བརྒྱད་ལོན་ཡོད་དམ།",
    "local": "ཁྱེད་ཀྱི་ཐེམ་ཐོའམ་འགན་སྲུང་ས་གནས་འདིར་ཡོད་དམ།",
}

MATERIALS_BO = {
    "idcard": "ཡུལ་མིའི་ལག་ཁྱེར།",
    "hukou": "ཐེམ་ཐོ་དེབ།",
    "move_permit": "སྤོ་འཇུག་ཆོག་མཆན་ལག་ཁྱེར།",
    "marriage_cert": "གཉེན་སྒྲིག་ལག་ཁྱེར།",
    "photo_receipt": "གྲངས་ཀའི་པར་གྱི་འཛིན་ཤོག",
    "old_idcard": "ལག་ཁྱེར་རྙིང་པ།",
    "photo": "ཉེ་ཆར་གྱི་ཚོན་པར།",
    "bank_card": "དངུལ་ཁང་གི་ཁཱ།",
    "ss_card": "སྤྱི་ཚོགས་འགན་སྲུང་ཁཱ།",
}


def names(table: dict[str, str], key: str) -> dict[str, str] | None:
    """`{bo = "…"}` for the config when `key` has a Tibetan text; None leaves the key out."""
    return {"bo": table[key]} if key in table else None

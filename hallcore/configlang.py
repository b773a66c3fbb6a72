"""The checks of a hall's languages: the kiosk's language list, the further-language texts that matters,
materials, questions, departments and the hall give (`names`, `texts`, `notices`), the home screen's matter
tiles and each kiosk's speech volume. Whether a catalogue exists for a language is the kiosk's to say
(`hallq kiosk --check-config`): this module does no I/O and knows no catalogue."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from hallcore.config import Department, Hall, Kiosk, Matter, Station, StationRole
from hallcore.configrules import between, ref
from hallcore.configwalk import Parsed, Walker, one_of

#: The pictures a material may have on the kiosk (`icon = "idcard"`); kiosk/icons.py draws each.
MATERIAL_ICONS = ("idcard", "booklet", "photo", "card", "certificate", "contract", "document")

#: A language tag as the catalogues name them: "zh", "en", "bo", "mn", "ug", "zh-hant".
_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def check_languages(w: Walker, p: Parsed) -> None:
    kiosk: Kiosk = p.section("kiosk") or Kiosk()
    langs = kiosk.languages
    if not langs:
        w.issue("kiosk.languages", list(langs), "at least one language, e.g. ['zh', 'en']")
    for i, lang in enumerate(langs):
        if not _TAG.match(lang):
            w.issue(f"kiosk.languages[{i}]", lang, "a lowercase language tag, e.g. 'zh', 'en', 'bo'")
        elif lang in langs[:i]:
            w.issue(f"kiosk.languages[{i}]", lang, "each language once")
    further = [x for x in langs if x not in ("zh", "en")]
    hall: Hall | None = p.section("hall")
    if hall is not None:
        _texts(w, "hall.names", hall.names, further)
        _texts(w, "hall.notices", hall.notices, ["en", *further])
    for i, d in p.items("departments"):
        dept: Department = d
        _texts(w, f"departments[{i}].names", dept.names, further)
    codes = []
    for i, m in p.items("matters"):
        matter: Matter = m
        codes.append(matter.code)
        _texts(w, f"matters[{i}].names", matter.names, further)
        for j, q in enumerate(matter.precheck.questions):
            _texts(w, f"matters[{i}].precheck.questions[{j}].texts", q.texts, further)
        for j, mat in enumerate(matter.precheck.materials):
            _texts(w, f"matters[{i}].precheck.materials[{j}].names", mat.names, further)
            if mat.icon:
                ref(w, f"matters[{i}].precheck.materials[{j}].icon", mat.icon, MATERIAL_ICONS, "icons")
    for i, code in enumerate(kiosk.home_matters):
        ref(w, f"kiosk.home_matters[{i}]", code, codes, "matter codes")
    for i, s in p.items("stations"):
        st: Station = s
        between(w, f"stations[{i}].volume", st.volume, 0, 100)
        if st.role is StationRole.KIOSK and st.volume == 0 and st.voice:
            w.issue(f"stations[{i}].volume", st.volume, "above 0 when voice = true (or voice = false)")


def _texts(w: Walker, key: str, texts: Mapping[str, str], languages: Sequence[str]) -> None:
    for lang, text in texts.items():
        if lang not in languages:
            w.issue(f"{key}.{lang}", text, one_of("languages of kiosk.languages (besides zh)", languages))
        elif not text.strip():
            w.issue(f"{key}.{lang}", text, "a text (leave the language out to read it in Chinese)")

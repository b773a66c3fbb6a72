"""The kiosk's catalogues: every text in every language (placeholders kept), the Tibetan catalogue complete
and marked for review, its every character in the fonts the theme names (Debian's fonts-tibetan-machine, in
./dev's APT_PACKAGES), the pseudo-locale longer everywhere, and a hall language without a catalogue refused
by `hallq kiosk --check-config`."""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

import pytest
from PySide6.QtGui import QFont, QRawFont

from hallfiles.config import read_config
from hallui.i18n import PSEUDO, Catalog, placeholders, pseudo
from hallui.theme import FONT_FAMILIES
from kiosk.__main__ import main as kiosk_main
from kiosk.texts import FURTHER, KIOSK_TEXTS, LANGUAGE_NAMES, TEXTS, catalog, language_problem
from tests.fakes.live_server import COUNTY

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_catalogue_is_complete_and_keeps_its_placeholders() -> None:
    cat = catalog()
    assert cat.problems() == []
    for lang in FURTHER:
        assert cat.missing(lang) == [], lang
    assert set(cat.languages) >= {"zh", "en", "bo", PSEUDO}


def test_the_tibetan_catalogue_is_marked_machine_drafted() -> None:
    data = tomllib.loads((ROOT / "kiosk" / "texts_bo.toml").read_text("utf-8"))
    assert data["status"] == "machine-drafted, needs review"
    assert set(data["texts"]) == set(TEXTS)


def _covered(ch: str, fonts: list[QRawFont]) -> bool:
    return ch.isspace() or any(f.supportsCharacter(ord(ch)) for f in fonts)


def test_the_theme_fonts_cover_every_character_of_every_catalogue(qapp: Any) -> None:
    """Glyph coverage by the fonts the theme names, not by whatever fallback a test machine has."""
    fonts = [QRawFont.fromFont(QFont(family)) for family in FONT_FAMILIES]
    assert all(f.isValid() for f in fonts), (
        "install fonts-wqy-microhei and fonts-tibetan-machine (./dev setup)"
    )
    cat = catalog()
    for lang in ("zh", "en", *FURTHER, PSEUDO):
        cat.language = lang
        for key in TEXTS:
            text = cat.t(key, **dict.fromkeys(placeholders(TEXTS[key][0]), "0"))
            lacking = sorted({ch for ch in text if not _covered(ch, fonts)})
            assert not lacking, f"{lang} {key}: {lacking}"
    for name in LANGUAGE_NAMES.values():
        assert all(_covered(ch, fonts) for ch in name), name
    config = read_config(COUNTY)
    for m in config.matters:
        for text in (*m.names.values(), *(x for mat in m.precheck.materials for x in mat.names.values())):
            assert all(_covered(ch, fonts) for ch in text), text


def test_the_pseudo_locale_lengthens_every_text_and_keeps_placeholders() -> None:
    cat = Catalog(KIOSK_TEXTS, PSEUDO)
    for key, (_, en) in KIOSK_TEXTS.items():
        text = pseudo(en)
        assert len(text) >= len(en) * 1.3, key
        assert placeholders(text) == placeholders(en), key
        assert cat.t(key, **dict.fromkeys(placeholders(en), "x"))
    assert cat.pick("户口迁入", "Moving in").startswith("[Mõvîñg")


def test_further_languages_read_config_texts_and_fall_back_to_chinese() -> None:
    cat = catalog("bo")
    assert cat.pick("户口迁入登记", "Moving in", {"bo": "ཐེམ་ཐོ།"}) == "ཐེམ་ཐོ།"
    assert cat.pick("社会保障卡申领", "Social security card", {}) == "社会保障卡申领"
    with pytest.raises(ValueError, match="language must be one of"):
        cat.language = "mn"


def test_a_hall_language_without_a_catalogue_is_refused(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert language_problem(("zh", "en", "bo")) == ""
    assert "no kiosk catalogue for mn" in language_problem(("zh", "mn"))
    text = COUNTY.read_text("utf-8").replace('languages = ["zh", "en", "bo"]', 'languages = ["zh", "mn"]')
    text = text.replace("bo = ", "mn = ")
    path = tmp_path / "hall.toml"
    path.write_text(text, "utf-8")
    assert kiosk_main(["--config", str(path), "--check-config"]) == 2
    assert "no kiosk catalogue for mn" in capsys.readouterr().err

"""Translation catalogues: every user-facing string has a key with Chinese and English text, and a hall may
add languages from catalogue files (`hallui.locales`: key = text, one TOML file a language).

Each app keeps its own source catalogue (a dict of key -> (zh, en)); a test checks that no text is empty in
any language, that the placeholders agree, and that every key an app uses exists. A key a further language
lacks reads in Chinese (a Qinghai hall's Tibetan speakers read Chinese far more often than English).

The pseudo-locale `PSEUDO` is for tests only: every text (and every name from the config) comes out about
40% longer, bracketed and accented, so a layout that clips a translation shows it in Chinese-sized screens
too.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

LANGUAGES = ("zh", "en")
#: The test-only pseudo-locale: English stretched (see `pseudo`).
PSEUDO = "pseudo"

_FMT = string.Formatter()
#: Accented letters within Latin-1, which the CJK font covers (a pseudo-locale must not fail on glyphs).
_ACCENTS = str.maketrans("aeiouyAEIOUcnCN", "àéîõüÿÀÉÎÕÜçñÇÑ")


def pseudo(text: str) -> str:
    """`text` accented, padded by ~40% and bracketed, its `{placeholders}` kept as they are."""
    if not text:
        return text
    out = []
    for literal, name, spec, conv in _FMT.parse(text):
        out.append(literal.translate(_ACCENTS))
        if name is not None:
            out.append("{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
    body = "".join(out)
    pad = "·" * max(2, round(len(text) * 0.4))
    return f"[{body} {pad}]"


def placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in _FMT.parse(text) if f}


class Catalog:
    """Texts in one current language. `more`: further languages, each a {key: text} catalogue."""

    def __init__(
        self,
        texts: Mapping[str, tuple[str, str]],
        language: str = "zh",
        more: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._texts = dict(texts)
        self._more = {k: dict(v) for k, v in (more or {}).items()}
        self.language = language

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language this catalogue can show (the pseudo-locale included)."""
        return (*LANGUAGES, *self._more, PSEUDO)

    @property
    def language(self) -> str:
        return self._language

    @language.setter
    def language(self, value: str) -> None:
        if value not in self.languages:
            raise ValueError(f"language must be one of {self.languages}, got {value!r}")
        self._language = value

    def t(self, key: str, **values: object) -> str:
        """The text for `key` in the current language, with `{name}` placeholders filled in."""
        zh, en = self._texts[key]
        lang = self._language
        if lang == "en":
            text = en
        elif lang == PSEUDO:
            text = pseudo(en)
        elif lang == "zh":
            text = zh
        else:
            text = self._more[lang].get(key) or zh
        return text.format(**values) if values else text

    def pick(self, zh: str, en: str, more: Mapping[str, str] | None = None) -> str:
        """For texts that come with their languages from the config (matter names): English and the further
        languages (`more`, {language: text}) may be missing, and then read in Chinese."""
        lang = self._language
        if lang == "en":
            return en or zh
        if lang == PSEUDO:
            return pseudo(en or zh)
        if lang == "zh" or more is None:
            return zh
        return more.get(lang) or zh

    def keys(self) -> list[str]:
        return list(self._texts)

    def missing(self, language: str) -> list[str]:
        """Keys a further language has no text for (they read in Chinese)."""
        have = self._more.get(language, {})
        return [k for k in self._texts if not have.get(k, "").strip()]

    def problems(self) -> list[str]:
        """Keys with an empty text in some language, placeholders that differ between languages, or keys a
        further language has that the source catalogue does not."""
        out = []
        for key, (zh, en) in self._texts.items():
            if not zh.strip() or not en.strip():
                out.append(f"{key}: empty text")
                continue
            names_zh, names_en = placeholders(zh), placeholders(en)
            if names_zh != names_en:
                out.append(f"{key}: placeholders differ {sorted(names_zh)} vs {sorted(names_en)}")
            for lang, texts in self._more.items():
                if key in texts and placeholders(texts[key]) != names_zh:
                    out.append(f"{key}: {lang} placeholders {sorted(placeholders(texts[key]))}")
        for lang, texts in self._more.items():
            out += [f"{key}: in {lang} but not in the source" for key in texts if key not in self._texts]
        return out

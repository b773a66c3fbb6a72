"""Translation catalogues: every user-facing string has a key with Chinese and English text.

Each app keeps its own catalogue (a dict of key -> (zh, en)); a test checks that no text is empty in either
language and that every key an app uses exists.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("zh", "en")


class Catalog:
    def __init__(self, texts: Mapping[str, tuple[str, str]], language: str = "zh") -> None:
        self._texts = dict(texts)
        self.language = language

    @property
    def language(self) -> str:
        return self._language

    @language.setter
    def language(self, value: str) -> None:
        if value not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, got {value!r}")
        self._language = value

    def t(self, key: str, **values: object) -> str:
        """The text for `key` in the current language, with `{name}` placeholders filled in."""
        zh, en = self._texts[key]
        text = en if self._language == "en" else zh
        return text.format(**values) if values else text

    def pick(self, zh: str, en: str) -> str:
        """For texts that come with both languages from the config (matter names): English may be empty."""
        return en if self._language == "en" and en else zh

    def keys(self) -> list[str]:
        return list(self._texts)

    def problems(self) -> list[str]:
        """Keys with an empty text in some language, or placeholders that differ between languages."""
        import string

        out = []
        fmt = string.Formatter()
        for key, (zh, en) in self._texts.items():
            if not zh.strip() or not en.strip():
                out.append(f"{key}: empty text")
                continue
            names_zh = {f for _, f, _, _ in fmt.parse(zh) if f}
            names_en = {f for _, f, _, _ in fmt.parse(en) if f}
            if names_zh != names_en:
                out.append(f"{key}: placeholders differ {sorted(names_zh)} vs {sorted(names_en)}")
        return out

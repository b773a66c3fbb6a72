"""What a call says: the voice segments of "请A012号到12号窗口办理" in each language, and its subtitle.

Ticket characters are read one by one (A 零 一 二), window numbers as cardinals (十二号窗口). `SEGMENT_TEXTS`
is what each segment says, for generating a pack with espeak-ng (`-v cmn-latn-pinyin`: `-v cmn` misreads
Han characters, PITFALLS.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.protocols import VoiceError

_ZH_DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
_EN_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"),
    *("twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty"}
_EN_TENS[90] = "ninety"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _segment_texts() -> dict[str, tuple[str, str]]:
    """Segment key -> (espeak-ng voice, text) for the generated fallback pack."""
    texts: dict[str, tuple[str, str]] = {
        "zh/qing": ("cmn-latn-pinyin", "qing3"),
        "zh/hao": ("cmn-latn-pinyin", "hao4"),
        "zh/dao": ("cmn-latn-pinyin", "dao4"),
        "zh/hao_chuangkou": ("cmn-latn-pinyin", "hao4 chuang1 kou3"),
        "zh/banli": ("cmn-latn-pinyin", "ban4 li3"),
        "zh/shi": ("cmn-latn-pinyin", "shi2"),
        "zh/bai": ("cmn-latn-pinyin", "bai3"),
        "en/number": ("en", "number"),
        "en/please_go_to": ("en", "please go to"),
        "en/window": ("en", "window"),
        "en/hundred": ("en", "hundred"),
    }
    for d, pinyin in enumerate(_ZH_DIGITS):
        texts[f"zh/digit_{d}"] = ("cmn-latn-pinyin", pinyin)
        texts[f"en/digit_{d}"] = ("en", _EN_ONES[d])
    for letter in _LETTERS:
        # Halls read ticket letters the English way ("A" as "ei") in Chinese calls too.
        texts[f"zh/letter_{letter}"] = ("en", letter)
        texts[f"en/letter_{letter}"] = ("en", letter)
    for n in range(1, 20):
        texts[f"en/num_{n}"] = ("en", _EN_ONES[n])
    for n, word in _EN_TENS.items():
        texts[f"en/num_{n}"] = ("en", word)
    return texts


SEGMENT_TEXTS = _segment_texts()


def ticket_segments(ticket: str, lang: str) -> list[str]:
    """Each character on its own: "A012" is read A 零 一 二, never "twelve"."""
    out = []
    for ch in ticket.upper():
        if ch.isdigit():
            out.append(f"{lang}/digit_{ch}")
        elif ch in _LETTERS:
            out.append(f"{lang}/letter_{ch}")
    return out


def zh_cardinal(n: int, available: Iterable[str] = ()) -> list[str]:
    """A number as spoken in Chinese, 1..999: 12 -> 十二, 20 -> 二十, 105 -> 一百零五, 110 -> 一百一十.
    A recording of the whole number (`zh/num_12`) is preferred when the pack has one."""
    if f"zh/num_{n}" in set(available):
        return [f"zh/num_{n}"]
    if not 0 <= n <= 999:
        return [f"zh/digit_{d}" for d in str(n)]
    if n < 10:
        return [f"zh/digit_{n}"]
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out: list[str] = []
    if hundreds:
        out += [f"zh/digit_{hundreds}", "zh/bai"]
        if rest == 0:
            return out
        if tens == 0:
            return [*out, "zh/digit_0", f"zh/digit_{ones}"]
    if tens:
        # 十二 not 一十二, but 一百一十二.
        if tens > 1 or hundreds:
            out.append(f"zh/digit_{tens}")
        out.append("zh/shi")
    if ones:
        out.append(f"zh/digit_{ones}")
    return out


def en_cardinal(n: int, available: Iterable[str] = ()) -> list[str]:
    if f"en/num_{n}" in set(available) or 1 <= n < 20:
        return [f"en/num_{n}"]
    if not 1 <= n <= 999:
        return [f"en/digit_{d}" for d in str(n)]
    hundreds, rest = divmod(n, 100)
    out = [f"en/num_{hundreds}", "en/hundred"] if hundreds else []
    if 0 < rest < 20:
        out.append(f"en/num_{rest}")
    elif rest:
        tens, ones = divmod(rest, 10)
        out.append(f"en/num_{tens * 10}")
        if ones:
            out.append(f"en/num_{ones}")
    return out


def call_segments(ticket: str, window: int, lang: str, available: Iterable[str] = ()) -> list[str]:
    available = set(available)
    if lang == "zh":
        return [
            "zh/qing",
            *ticket_segments(ticket, "zh"),
            "zh/hao",
            "zh/dao",
            *zh_cardinal(window, available),
            "zh/hao_chuangkou",
            "zh/banli",
        ]
    if lang == "en":
        return [
            "en/number",
            *ticket_segments(ticket, "en"),
            "en/please_go_to",
            "en/window",
            *en_cardinal(window, available),
        ]
    raise VoiceError(f"no announcement wording for language {lang!r}; use 'zh' or 'en'")


def call_subtitle(ticket: str, window: int, lang: str) -> str:
    if lang == "zh":
        return f"请{ticket}号到{window}号窗口办理"
    return f"Number {ticket}, please go to window {window}"

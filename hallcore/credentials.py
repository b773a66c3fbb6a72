"""What a clerk's PIN and a manager's password must be (DESIGN.md §9, 等保 2.0 identification).

A PIN is typed on a counter's keypad, so it stays digits: six of them at least, and none of the few that
everybody tries first (a digit repeated, a run up or down by even steps, a short pattern repeated). A PIN
made before this rule (four digits were allowed) still logs in once: the server then asks for a new one
(`pin_change_required`, hallserver/clerks.py).

Pure: each check returns the problem in both languages, or None.
"""

from __future__ import annotations

import itertools

from hallcore.text import Problem

PIN_MIN = 6
PIN_MAX = 12
PASSWORD_MIN = 10
PASSWORD_MAX = 256

#: Passwords of ten characters or more that lists of leaked passwords are full of (lower-cased).
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "qwertyuiop",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "password12",
        "password123",
        "password1234",
        "p@ssw0rd123",
        "admin12345",
        "admin123456",
        "administrator",
        "abc1234567",
        "abcd123456",
        "a123456789",
        "qwerty12345",
        "iloveyou123",
        "woaini1314",
        "woaini520",
        "5201314520",
    }
)


def _steps_evenly(digits: str) -> bool:
    """Every step the same, wrapping past 9: 123456, 890123, 987654, 135791, 000000."""
    return len({(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}) == 1


def _repeats_short_pattern(s: str) -> bool:
    """The same one, two or three characters over and over (111111, 121212, 123123)."""
    return any(len(s) % n == 0 and s == s[:n] * (len(s) // n) for n in (1, 2, 3) if n < len(s))


def pin_problem(pin: str) -> Problem | None:
    """None when `pin` may be a clerk's PIN."""
    if not (pin.isascii() and pin.isdigit()) or not PIN_MIN <= len(pin) <= PIN_MAX:
        return Problem(f"PIN 须为 {PIN_MIN}–{PIN_MAX} 位数字", f"a PIN is {PIN_MIN} to {PIN_MAX} digits")
    if _repeats_short_pattern(pin) or _steps_evenly(pin):
        return Problem(
            "PIN 过于简单（重复或连续的数字），请换一个",
            "the PIN is too easy to guess (repeated or consecutive digits): choose another",
        )
    return None


def _classes(password: str) -> int:
    letters = any(ch.isalpha() for ch in password)
    digits = any(ch.isdigit() for ch in password)
    others = any(not ch.isalnum() for ch in password)
    return letters + digits + others


def password_problem(username: str, password: str) -> Problem | None:
    """None when `password` may be the manager `username`'s password: at least ten characters of at least two
    kinds (letters, digits, others), not the user name, not a well-known one, not one character repeated."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return Problem(
            f"密码须为 {PASSWORD_MIN}–{PASSWORD_MAX} 个字符",
            f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters",
        )
    if _classes(password) < 2:
        return Problem(
            "密码须包含字母、数字、符号中的至少两类",
            "a password mixes at least two of letters, digits and other characters",
        )
    lowered = password.lower()
    name = username.strip().lower()
    if len(name) >= 3 and name in lowered:
        return Problem("密码不能包含用户名", "a password must not contain the user name")
    if lowered in COMMON_PASSWORDS or _repeats_short_pattern(lowered):
        return Problem("密码过于常见，请换一个", "the password is too common: choose another")
    return None

"""A guard against reference-count bugs of PySide6 6.12 on CPython 3.11 that would crash a long-running app.

Measured here (PySide6 6.12.0, CPython 3.11.7): every Python-side `SignalInstance.emit()` returns `True`
without a new reference, and every call of a Python override of a virtual method that returns None
(`timerEvent`, `paintEvent`, `event`…) takes one reference from `None`. qasync runs each asyncio callback
through `QObject.timerEvent`, so a busy app loses thousands of references an hour, and when one of the
counts reaches zero the interpreter aborts ("Fatal Python error: bool_dealloc" / "none_dealloc"): the
display benchmark died after about 200 calls.

From CPython 3.12 these singletons are immortal (PEP 683) and the bugs are harmless. On 3.11,
`pin_singletons()` does what 3.12 does: it gives `None`, `True` and `False` a reference count no app can
wear down (2**40 extra). Call it once at start-up, before the Qt loop runs (`hallui.runner.run_qt` does).
"""

from __future__ import annotations

import ctypes
import sys

#: Far more references than an app drops in its lifetime (one per callback: 10**12 is decades).
_PIN = 1 << 40
_pinned = False


def pin_singletons() -> bool:
    """Make `None`, `True` and `False` effectively immortal on CPython < 3.12; True if it did anything."""
    global _pinned  # noqa: PLW0603 - a process-wide, once-only fix
    if _pinned or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object, and id() is the object's address.
        ctypes.c_ssize_t.from_address(id(obj)).value += _PIN
    _pinned = True
    return True

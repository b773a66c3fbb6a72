"""Replies read with the hall's one codec (`hallcore.codec`): a reply that does not fit its type becomes
`BadReply` naming the field. Unknown keys are ignored, so a newer server can add fields without breaking
older stations; missing or mistyped fields are errors."""

from __future__ import annotations

from typing import Any, TypeVar

from hallclient.errors import BadReply
from hallcore.codec import CodecError, decode

T = TypeVar("T")


def read(tp: type[T], data: Any, where: str = "") -> T:
    """`data` (parsed JSON) as a `tp`, or `BadReply`."""
    try:
        return decode(tp, data, where)
    except CodecError as exc:
        raise BadReply(str(exc)) from exc

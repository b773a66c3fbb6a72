"""What the streaming frame decoders (HQP/1, the SAM reader, the vendor 485 keypads) share: a buffer fed
whatever the port returned, bytes before a frame's marker dropped and counted, and a marker split across two
reads kept until the rest arrives. Each decoder parses its own frames and counts its own kind of bad one."""

from __future__ import annotations


class ResyncDecoder:
    def __init__(self) -> None:
        self._buf = bytearray()
        self.dropped_bytes = 0

    def reset(self) -> None:
        self._buf.clear()

    def _drop(self, n: int) -> None:
        """Drop (and count) the first `n` bytes: noise, or the first byte of a false marker, after which the
        scan goes on, so a real frame that started inside the rejected bytes is still found."""
        self.dropped_bytes += n
        del self._buf[:n]

    def _skip_to(self, marker: bytes) -> bool:
        """Drop what stands before the first `marker`; True when the buffer now starts with it. Without one,
        all is dropped but a trailing start of the marker, which may be completed by the next read."""
        buf = self._buf
        start = buf.find(marker)
        if start >= 0:
            self._drop(start)
            return True
        self._drop(len(buf) - partial_marker(buf, marker))
        return False


def partial_marker(buf: bytes | bytearray, marker: bytes) -> int:
    """How many trailing bytes of `buf` may be the start of `marker` split across reads."""
    for n in range(min(len(marker) - 1, len(buf)), 0, -1):
        if buf[-n:] == marker[:n]:
            return n
    return 0

"""The life of a driver that serves its device on a thread of its own (a scanner, an ID card reader):
`start()` it, `close()` it, or use it as a context manager."""

from __future__ import annotations

import threading
from typing import Self


class DeviceThread:
    """Subclasses implement `_run` (loop until `_stop` is set, never raise) and `_release` (close the device
    after the thread ended). `close()` waits at most `join_s` for the thread to finish what it is doing."""

    join_s = 15.0

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and release the device; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_s)
            self._thread = None
        self._release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

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


class ReopeningThread(DeviceThread):
    """A device that comes and goes (unplugged, switched off): the thread `_open`s it, pausing between tries
    (doubling from `backoff_initial_s` up to `backoff_max_s`, back to the start once open), then `_serve`s it
    until it is lost or the thread is stopped, and opens it again."""

    def __init__(self, name: str, *, backoff_initial_s: float, backoff_max_s: float) -> None:
        super().__init__(name)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s

    def _run(self) -> None:
        backoff = self._backoff_initial_s
        while not self._stop.is_set():
            if not self._open():
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._backoff_max_s)
                continue
            backoff = self._backoff_initial_s
            self._serve()

    def _open(self) -> bool:
        """Open the device; False (its state and the log told why) when it cannot be now. Never raises."""
        raise NotImplementedError

    def _serve(self) -> None:
        """Use the open device until it is lost (released, state told) or `_stop` is set. Never raises."""
        raise NotImplementedError

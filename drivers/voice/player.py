"""The sound output: a `VoicePlayer` that plays one WAV to its end through ALSA's `aplay` or sox's `play`."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from drivers.protocols import VoiceError

log = logging.getLogger(__name__)


class AplayPlayer:
    """Plays through `aplay` (ALSA), or sox's `play` when aplay is absent; one subprocess per announcement,
    waited on by a thread that then reports completion."""

    def __init__(self, command: Sequence[str] | None = None, *, timeout_s: float = 60.0) -> None:
        if command is None:
            if shutil.which("aplay"):
                command = ("aplay", "-q")
            elif shutil.which("play"):
                command = ("play", "-q")
            else:
                raise VoiceError("neither aplay (alsa-utils) nor play (sox) is installed")
        self._command = tuple(command)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()

    def play(self, wav: Path, on_done: Callable[[], None]) -> None:
        def run() -> None:
            try:
                proc = subprocess.Popen([*self._command, str(wav)], stdin=subprocess.DEVNULL)
                with self._lock:
                    self._procs.add(proc)
                try:
                    proc.wait(timeout=self._timeout_s)
                except subprocess.TimeoutExpired:
                    log.warning("voice: %s did not finish in %.0f s; stopped", wav, self._timeout_s)
                    proc.kill()
                    proc.wait()
                finally:
                    with self._lock:
                        self._procs.discard(proc)
                if proc.returncode:
                    log.warning("voice: %s exited %d playing %s", self._command[0], proc.returncode, wav)
            except OSError as e:
                log.warning("voice: cannot run %s: %s", self._command[0], e)
            finally:
                on_done()

        threading.Thread(target=run, name="voice player", daemon=True).start()

    def stop(self) -> None:
        """Cut off what is playing (guidance, when the screen changes); `on_done` follows from its thread."""
        self.close()

    def close(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.terminate()

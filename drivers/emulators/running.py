"""What every emulator and emulator console shares: it runs between `start()` (which returns it, so
`emu = X().start()` reads naturally) and `stop()`, and a with-statement does both."""

from __future__ import annotations

from typing import Generic, Protocol, Self, TypeVar


class Running:
    """Subclasses implement `start` (returning self) and `stop` (safe to call twice)."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Emulator(Protocol):
    @property
    def url(self) -> str: ...

    def start(self) -> object: ...

    def stop(self) -> None: ...


E = TypeVar("E", bound=Emulator)


class RunsOne(Running, Generic[E]):
    """A console runner around one emulator (`self.emu`): its url, and it runs while the emulator runs."""

    emu: E

    @property
    def url(self) -> str:
        return self.emu.url

    def start(self) -> Self:
        self.emu.start()
        return self

    def stop(self) -> None:
        self.emu.stop()

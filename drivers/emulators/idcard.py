"""An ID card reader emulator (a SAM module speaking PROTOCOLS.md §6) over a pty or TCP, for tests, the demo
and installers.

It answers as readers do: `find` reports a card only while one lies on the reader that has not been read
since it was placed (a read card is halted until it is lifted and placed again), `select` and `read` work on
that card only, a SAM that failed its self-test (or is not authorised) answers every command with that
result. Scriptable: place and lift cards, fail the next reads with SW3 `41`, send power-up garbage, a radio
delay before a read is answered, and replies paced at a baud rate (a pty has no baud rate of its own).
The built-in cards are the two complete read replies of PROTOCOLS.md §6, byte for byte.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from drivers.base import ProtocolError
from drivers.codecs import idcard as c
from drivers.codecs.idcard import Command, FrameDecoder, SamResult, TextFields
from drivers.emulators.pipes import PipedEmulator
from drivers.emulators.running import RunsOne
from drivers.emulators.usb import UsbPipe
from drivers.factory import ConfigurationError
from hallcore.privacy import mask_id, mask_name

BUILTIN = Path(__file__).with_name("idcard_cards.json")
_BITS_PER_BYTE = 10  # 8N1: start, 8 data, stop
_CHUNK = 64  # bytes written at a time when pacing: a USB-serial adapter's packet


class CardFileError(ConfigurationError):
    """A card file that cannot be used (not JSON, an unknown field, a field too long)."""


@dataclass(frozen=True, slots=True)
class EmulatedCard:
    """A card the emulator can place: its 256-byte text block and 1,024-byte photo as the SAM returns them."""

    text: bytes
    photo: bytes

    @classmethod
    def from_fields(cls, fields: TextFields, photo: bytes | None = None) -> EmulatedCard:
        if photo is None:
            # Stands in for the encrypted photo: noise of the right size, the same for the same card.
            rng = random.Random(c.join_text(fields))
            photo = bytes(rng.randrange(256) for _ in range(c.PHOTO_LEN))
        return cls(c.join_text(fields), photo)

    @classmethod
    def from_json(cls, obj: Any, where: str = "card") -> EmulatedCard:
        if not isinstance(obj, dict):
            raise CardFileError(f"{where}: a card is a JSON object of text fields, not {type(obj).__name__}")
        known = {f.name for f in dataclasses.fields(TextFields)}
        unknown = sorted(set(obj) - known - {"photo_hex"})
        if unknown:
            raise CardFileError(
                f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values = {k: v for k, v in obj.items() if k in known}
        for key, value in values.items():
            if not isinstance(value, str):
                raise CardFileError(f"{where}.{key}: a text value, not {value!r}")
        photo_hex = obj.get("photo_hex")
        try:
            photo = None if photo_hex is None else bytes.fromhex(str(photo_hex))
            return cls.from_fields(TextFields(**values), photo)
        except ValueError as e:
            raise CardFileError(f"{where}: {e}") from None

    @property
    def fields(self) -> TextFields:
        return c.split_text(self.text)

    def label(self) -> str:
        """Masked, as a console may show it: 张* 341524********1231."""
        card = c.parse_text(self.text)
        if isinstance(card, c.UnsupportedCard):
            return card.kind or f"unknown card kind (mark {card.mark!r})"
        return f"{mask_name(card.name)} {mask_id(card.id_number, head=6)}"

    def read_reply(self) -> bytes:
        return c.reply(SamResult.OK, c.read_reply_data(self.text, self.photo)).encode()


def load_cards(path: Path) -> list[EmulatedCard]:
    """One card (a JSON object of text fields) or a list of them; `photo_hex` is optional."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CardFileError(f"{path}: not a readable JSON card file ({e})") from None
    items = data if isinstance(data, list) else [data]
    return [EmulatedCard.from_json(item, f"{path}[{i}]") for i, item in enumerate(items)]


def builtin_cards() -> list[EmulatedCard]:
    """张三 (valid 长期) and 王堃喆 (nation 04, valid to 2028-08-01): the vectors of PROTOCOLS.md §6."""
    return load_cards(BUILTIN)


def power_up_garbage(n: int = 48, seed: int | None = None) -> bytes:
    """What a reader may send as it powers up: noise and a preamble with an impossible length, but never a
    byte sequence a decoder could take for a frame."""
    rng = random.Random(seed)
    noise = bytes(b for b in (rng.randrange(256) for _ in range(n)) if b != 0xAA)
    return noise[: n // 2] + c.PREAMBLE + b"\xff\xff" + noise[n // 2 :]


class SamReaderEmulator(PipedEmulator):
    """One reader behind one pipe. Build with `pty()` or `tcp()`, `start()`, then `place()` a card."""

    name = "emulated ID card reader"

    def __init__(self, cards: list[EmulatedCard] | None = None) -> None:
        super().__init__()
        self.cards = builtin_cards() if cards is None else list(cards)
        self.radio_delay_s = 0.0  # the SAM's time to read a card over the air before it answers a read
        self.baud: int | None = None  # pace replies as a serial line at this rate would
        self.sam_result = SamResult.OK  # what SAM status answers; anything else refuses every command
        self._lock = threading.Lock()
        self._abort = threading.Event()  # cuts a radio delay or a paced reply short (unplug, stop)
        self._decoder = FrameDecoder()
        self._card: EmulatedCard | None = None
        self._halted = False
        self._fail_reads = 0
        self.commands: collections.deque[Command] = collections.deque(maxlen=1000)
        self.counts: collections.Counter[Command] = collections.Counter()  # every command ever received
        self.log: collections.deque[str] = collections.deque(maxlen=1000)  # what a console shows
        self.logged = 0  # lines ever added to `log`
        self._log_lock = threading.Lock()
        self.reads_served = 0
        self.read_failures = 0
        self.reply_wire_s: collections.deque[float] = collections.deque(maxlen=1000)  # paced read replies

    # --- the citizen and the installer ---

    @property
    def card(self) -> EmulatedCard | None:
        return self._card

    def place(self, card: int | EmulatedCard = 0) -> EmulatedCard:
        """Lay a card on the reader (an index into `cards`, or a card), lifting the one lying there."""
        chosen = self.cards[card] if isinstance(card, int) else card
        with self._lock:
            self._card, self._halted = chosen, False
        self._note(f"placed {chosen.label()}")
        return chosen

    def lift(self) -> None:
        with self._lock:
            had, self._card, self._halted = self._card, None, False
        if had is not None:
            self._note(f"lifted {had.label()}")

    def fail_reads(self, count: int = 1) -> None:
        """The next `count` reads answer SW3 41 (read failed), as a card moved during the read does."""
        with self._lock:
            self._fail_reads = count

    def send_garbage(self, n: int = 48) -> None:
        self.pipe.send(power_up_garbage(n))
        self._note(f"sent {n} bytes of power-up garbage")

    @classmethod
    def usb(
        cls, vendor: int = 0x0400, product: int = 0xC35A, *, out_ep: int = 0x02, in_ep: int = 0x81
    ) -> Self:
        """A reader on USB bulk endpoints; give pyusb `emu.usb_pipe.backend` (`usb.core.find(backend=…)`)."""
        emu = cls()
        emu._pipe = UsbPipe(
            emu._on_bytes, vendor=vendor, product=product, out_ep=out_ep, in_ep=in_ep, name=emu.name
        )
        return emu

    @property
    def usb_pipe(self) -> UsbPipe:
        if not isinstance(self._pipe, UsbPipe):
            raise TypeError("this emulator is not on USB")
        return self._pipe

    def unplug(self) -> None:
        """Pull the cable (pty, USB) or switch the network box off (TCP): the link fails mid-whatever, and
        the reader's field goes off, so a card that lies on it is found again afterwards."""
        self._abort.set()
        with self._lock:
            self._halted = False
        self.pipe.unplug()
        self._note("unplugged")

    def plug(self, *, garbage: bool = True) -> None:
        """Plug back in (a new pty behind the same link); a real reader then sends power-up garbage."""
        self._abort.clear()
        with self._lock:
            self._decoder.reset()
        self.pipe.plug()
        if garbage:
            self.pipe.send(power_up_garbage())
        self._note("plugged in")

    def stop(self) -> None:
        self._abort.set()
        super().stop()

    def _note(self, line: str) -> None:
        with self._log_lock:
            self.log.append(line)
            self.logged += 1

    def log_since_start(self) -> tuple[list[str], int]:
        """The lines kept (the last 1,000) and how many were ever written."""
        with self._log_lock:
            return list(self.log), self.logged

    # --- the SAM ---

    def answer(self, command: Command) -> tuple[bytes, EmulatedCard | None]:
        """The reply to `command`, or for a read the card being read (answered after the radio delay)."""
        with self._lock:
            card = self._card if not self._halted else None
            if command == c.SAM_STATUS:
                return c.reply(self.sam_result).encode(), None
            if command == c.RESET_SAM:
                return c.reply(SamResult.OK).encode(), None
            if self.sam_result is not SamResult.OK:
                return c.reply(self.sam_result).encode(), None
            if command == c.FIND_CARD:
                if card is None:
                    return c.reply(SamResult.NO_CARD).encode(), None
                return c.reply(SamResult.CARD_FOUND, bytes(4)).encode(), None
            if command == c.SELECT_CARD:
                if card is None:
                    return c.reply(SamResult.SELECT_FAILED).encode(), None
                return c.reply(SamResult.OK, bytes(8)).encode(), None
            if command == c.READ_TEXT_PHOTO:
                if card is None:
                    return c.reply(SamResult.READ_FAILED).encode(), None
                return b"", card
            return c.reply(SamResult.BAD_COMMAND).encode(), None

    def _read(self, card: EmulatedCard) -> bytes:
        """The read's reply once the radio delay passed: the card, or 41 when it failed or was lifted."""
        with self._lock:
            if self._card is not card or self._halted or self._fail_reads > 0:
                self._fail_reads = max(0, self._fail_reads - 1)
                self.read_failures += 1
                self._note(f"read of {card.label()} failed (SW3 41)")
                return c.reply(SamResult.READ_FAILED).encode()
            # A read card stays halted until it leaves the field: the next find reports no card.
            self._halted = True
            self.reads_served += 1
            self._note(f"read {card.label()}")
            return card.read_reply()

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            bodies = self._decoder.feed(data)
        for body in bodies:
            try:
                command = c.parse_command(body)
            except ProtocolError:
                self._send(c.reply(SamResult.BAD_LENGTH).encode())
                continue
            self.commands.append(command)
            self.counts[command] += 1
            out, card = self.answer(command)
            if card is not None:
                if self.radio_delay_s > 0 and self._abort.wait(self.radio_delay_s):
                    return  # unplugged while the card was being read: no reply, and the card was not read
                out = self._read(card)
            self._send(out)

    def _send(self, data: bytes) -> None:
        if self.baud is None:
            self.pipe.send(data)
            return
        start = time.monotonic()
        for pos in range(0, len(data), _CHUNK):
            chunk = data[pos : pos + _CHUNK]
            due = start + (pos + len(chunk)) * _BITS_PER_BYTE / self.baud
            if self._abort.wait(max(0.0, due - time.monotonic())):
                return
            self.pipe.send(chunk)
        if len(data) > 100:
            self.reply_wire_s.append(time.monotonic() - start)


SAM_STATES = {
    "ok": SamResult.OK,
    "selftest": SamResult.SAM_SELF_TEST_FAILED,
    "unauthorised": SamResult.SAM_NOT_AUTHORISED,
}
HELP = (
    "commands: place [N] | lift | fail [N] (the next N reads fail, SW3 41) | garbage "
    "| delay MS (radio delay) | sam ok|selftest|unauthorised | cards"
)


class IdCardEmulatorRunner(RunsOne[SamReaderEmulator]):
    """`hallq devices emulate idcard`: one emulated reader, what happens on it as lines, typed commands."""

    def __init__(
        self,
        *,
        card_files: list[Path] | tuple[Path, ...] = (),
        port: int = 9301,
        pty: bool = False,
        link: Path | None = None,
        host: str = "127.0.0.1",
        radio_delay_ms: int = 0,
        baud: int | None = None,
    ) -> None:
        cards = builtin_cards()
        for path in card_files:
            cards += load_cards(path)
        self.emu = SamReaderEmulator.pty(link) if pty else SamReaderEmulator.tcp(host=host, port=port)
        self.emu.cards = cards
        self.emu.radio_delay_s = radio_delay_ms / 1000
        self.emu.baud = baud
        self._shown = 0

    def describe(self) -> str:
        kind = "idcard-serial"
        return (
            f"ID card reader emulator on {self.url}: {len(self.emu.cards)} cards, none placed "
            f"(radio delay {self.emu.radio_delay_s * 1000:.0f} ms)\n"
            f'  [stations.id_reader] type = "{kind}", url = "{self.url}", baud = 115200\n' + self.cards_text()
        )

    def cards_text(self) -> str:
        return "\n".join(f"  card {i}: {card.label()}" for i, card in enumerate(self.emu.cards, 1))

    def changes(self) -> list[str]:
        """What happened on the reader since the last call (placements, reads, failures)."""
        log, logged = self.emu.log_since_start()
        new = min(logged - self._shown, len(log))
        self._shown = logged
        return log[len(log) - new :] if new else []

    def command(self, line: str) -> str:
        words = line.split()
        if not words:
            return ""
        try:
            if words[0] == "place" and len(words) <= 2:
                index = int(words[1]) if len(words) == 2 else 1
                if not 1 <= index <= len(self.emu.cards):
                    return f"no card {index}; there are {len(self.emu.cards)} (cards lists them)"
                return f"placed card {index}: {self.emu.place(index - 1).label()}"
            if words == ["lift"]:
                self.emu.lift()
                return "lifted"
            if words[0] == "fail" and len(words) <= 2:
                count = int(words[1]) if len(words) == 2 else 1
                self.emu.fail_reads(count)
                return f"the next {count} read(s) fail with SW3 41"
            if words == ["garbage"]:
                self.emu.send_garbage()
                return "sent power-up garbage"
            if words[0] == "delay" and len(words) == 2:
                self.emu.radio_delay_s = max(0, int(words[1])) / 1000
                return f"radio delay {int(self.emu.radio_delay_s * 1000)} ms"
            if words[0] == "sam" and len(words) == 2 and words[1] in SAM_STATES:
                self.emu.sam_result = SAM_STATES[words[1]]
                return f"SAM status now {self.emu.sam_result.name.lower()}"
            if words == ["cards"]:
                return self.cards_text()
        except ValueError:
            return HELP
        return HELP

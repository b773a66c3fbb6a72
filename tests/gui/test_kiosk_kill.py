"""A kiosk process killed between issue and print leaves no phantom number: the hall voids the ticket by
itself after `kiosk.print_confirm_timeout_s`, and no window can call it.

The kiosk runs as a real subprocess (`python -m kiosk`, offscreen, the hidden `--autopilot` taps through one
walk-in) against a live server and the printer emulator. A proxy in front of the emulator turns it silent
as soon as the ticket job starts, so the print hangs; then the kiosk gets SIGKILL.
"""

from __future__ import annotations

import os
import pathlib
import select
import signal
import socket
import subprocess
import sys
import threading

from drivers.emulators.printer import EmulatedState, TcpPrinterEmulator
from hallclient.enroll import save_pin, save_token
from hallfiles.config import read_config
from tests.fakes.live_server import COUNTY, live_server, wait_for, with_kiosk
from tests.fakes.processes import reap

ROOT = pathlib.Path(__file__).resolve().parents[2]


class SilencingProxy:
    """TCP proxy to the emulator that makes it silent when a print job (ESC @ …) comes through."""

    def __init__(self, emu: TcpPrinterEmulator) -> None:
        self.emu = emu
        self.jobs = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="silencing-proxy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection((self.emu.host, self.emu.port))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        with client, upstream:
            while not self.stop.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.1)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is client:
                        if data.startswith(b"\x1b@"):
                            self.jobs += 1
                            self.emu.set_state(EmulatedState.SILENT)
                        upstream.sendall(data)
                    else:
                        client.sendall(data)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


def test_killed_kiosk_leaves_no_phantom_ticket(tmp_path: pathlib.Path) -> None:
    config = with_kiosk(read_config(COUNTY), print_confirm_timeout_s=2)
    with live_server(tmp_path, config, counter_window=1, tls=True) as hall, TcpPrinterEmulator() as emu:
        proxy = SilencingProxy(emu)
        state_dir = tmp_path / "state"
        save_token(state_dir / "kiosk-1.json", hall.kiosk.token, station_id=hall.kiosk.id)
        assert hall.pin is not None
        save_pin(state_dir / "kiosk-1.json", hall.url, hall.pin)  # enrolled over TLS: pinned
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6")
        cmd = [
            sys.executable, "-m", "kiosk", "--config", str(COUNTY), "--station", "kiosk-1",
            "--server", hall.url, "--state-dir", str(state_dir), "--windowed",
            "--printer", f"tcp://127.0.0.1:{proxy.port}", "--autopilot", "HJ01",
        ]  # fmt: skip
        kiosk = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: proxy.jobs > 0 or kiosk.poll() is not None, 60, "the kiosk to start printing")
            assert kiosk.poll() is None, kiosk.communicate()[0].decode(errors="replace")[-3000:]
            assert hall.query("SELECT label, state FROM tickets") == [("A001", "pending_print")]
            kiosk.send_signal(signal.SIGKILL)
            kiosk.wait(timeout=10)
        finally:
            reap(kiosk, timeout=10)
            proxy.close()
        assert emu.tickets == []
        # Not callable while pending, and voided by the server once the confirmation is overdue.
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        assert hall.act(hall.counter, "call-next").status_code == 409
        hall.clock.advance(3)
        wait_for(lambda: hall.ticket_state("A001") == "voided", 10, "the server to void A001")
        assert hall.act(hall.counter, "call-next").status_code == 409
        r = hall.act(hall.counter, "call", ticket="A001", reason="test")
        assert r.status_code == 409, r.text
        assert hall.ticket_state("A001") == "voided"

"""The stored credentials: a 0600 file, rewritten whole, forgotten on demand, unreadable files ignored.
(Enrolling against a real server is in tests/server/test_client_enroll.py.)"""

from __future__ import annotations

import stat
from pathlib import Path

from hallclient.enroll import forget_token, load_credentials, load_token, save_token


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_load_forget(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{}")
    path.chmod(0o644)
    save_token(path, "t1", station_id="s1", server="http://h")
    assert mode(path) == 0o600
    cred = load_credentials(path)
    assert cred is not None
    assert (cred.token, cred.station_id, cred.server) == ("t1", "s1", "http://h")
    forget_token(path)
    forget_token(path)
    assert load_token(path) is None
    path.write_text("not json")
    assert load_credentials(path) is None

"""`hallq admin tls init|renew|show --dir DIR`: the hall CA and the server certificate (hallserver/tls.py).

Names and addresses come from the config's `[tls]` table (`--config`), with `--name`/`--address` added.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
from collections.abc import Callable
from typing import Any

from hallcore.configload import ConfigError
from hallcore.fingerprint import short_fingerprint
from hallfiles.config import read_config
from hallserver import tls


def add_parser(sub: Any) -> None:
    p = sub.add_parser("tls", help="the hall CA and server certificate: init, renew, show")
    tsub = p.add_subparsers(dest="tls_cmd", required=True)
    for name, what in (
        ("init", "make the hall CA and a server certificate (names and addresses from [tls])"),
        ("renew", "a new server certificate signed by the same CA (stations keep working)"),
        ("show", "the CA fingerprint stations pin, the server certificate's names and dates"),
    ):
        q = tsub.add_parser(name, help=what)
        q.add_argument("--dir", required=True, type=pathlib.Path, help="the TLS directory (server --tls-dir)")
        if name != "show":
            q.add_argument("--name", action="append", default=[], help="another DNS name (repeatable)")
            q.add_argument("--address", action="append", default=[], help="another IP address (repeatable)")


def run(say: Callable[[str], None], args: argparse.Namespace) -> None:
    """One tls command; `tls.TlsError` when refused (nothing changed then)."""
    files = tls.TlsFiles(args.dir)
    if args.tls_cmd == "show":
        for line in tls.describe(files):
            say(line)
        return
    if args.config is None:
        raise tls.TlsError("give --config FILE: the certificate's names and addresses are in its [tls] table")
    try:
        config = read_config(pathlib.Path(args.config))
    except (ConfigError, OSError) as exc:
        raise tls.TlsError(f"cannot read {args.config}: {exc}") from exc
    now = dt.datetime.now(dt.UTC)
    extra = {"names": tuple(args.name), "addresses": tuple(args.address)}
    if args.tls_cmd == "init":
        fp = tls.init(files, config, now, **extra)
        say(f"hall CA and server certificate written to {files.dir}")
        say(f"CA fingerprint {short_fingerprint(fp)}: stations show it beside their enrollment code")
    else:
        cert = tls.renew(files, config, now, **extra)
        say(f"server certificate renewed in {files.dir}, valid to {cert.not_valid_after_utc:%Y-%m-%d}")
        say("restart the server (systemctl restart hallq-server) to serve it")

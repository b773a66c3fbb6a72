"""The `hallq` command: one dispatcher, each subcommand imported only when chosen (Qt stays unloaded for
`hallq server`, the server stays unloaded for `hallq kiosk`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

# name -> (module, function, one-line help). Each function takes argv (the arguments after the name)
# and returns the exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "server": ("hallserver.app", "serve_main", "run the hall server"),
    "kiosk": ("kiosk.__main__", "main", "run a ticket kiosk"),
    "counter": ("counter.__main__", "main", "run a counter (clerk) station"),
    "display": ("display.__main__", "main", "run a hall display"),
    "devices": ("hallq.devices", "main", "list, test and emulate devices; run the device agent"),
    "demo": ("hallq.demo", "main", "run the demo hall"),
    "sim": ("hallq.simcli", "main", "simulate a hall day"),
    "check-config": ("hallq.check_config", "main", "validate hall config files (exit 0 or 2)"),
    "admin": (
        "hallserver.admin",
        "main",
        "managers, clerks, PINs, rosters, backups, the outbox, the calendar",
    ),
    "central": ("hallcentral.cli", "main", "run the province/city centre (PostgreSQL) halls ship to"),
}


def usage() -> str:
    lines = ["usage: hallq COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<13} {help_}" for name, (_m, _f, help_) in COMMANDS.items()]
    lines += ["", "hallq COMMAND --help for a command's options."]
    return "\n".join(lines)


def resolve(name: str) -> Callable[[list[str]], int]:
    module, func, _help = COMMANDS[name]
    fn: Callable[[list[str]], int] = getattr(importlib.import_module(module), func)
    return fn


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        print(f"hallq: unknown command '{name}'{hint}\n\n{usage()}", file=sys.stderr)
        return 2
    try:
        fn = resolve(name)
    except ModuleNotFoundError as exc:
        print(f"hallq {name}: not installed in this build ({exc.name} is missing)", file=sys.stderr)
        return 2
    return fn(rest)


if __name__ == "__main__":
    sys.exit(main())

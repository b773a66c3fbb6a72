"""`hallq central --config central.toml [COMMAND]`: run the centre, or manage its users and halls.

hallq central --config central.toml                      run (host/port from [server] or --host/--port)
hallq central --config central.toml --check-config       validate and exit (0 or 2)
hallq central --config central.toml migrate              bring the schema up to date
hallq central --config central.toml user add NAME --region ID [--admin]   (password on stdin)
hallq central --config central.toml hall approve HALL --region ID         (compare the code first)
hallq central --config central.toml hall list
hallq central --config central.toml hall revoke HALL      (its batches are refused from now on)
hallq central --config central.toml hall rekey HALL       (it lost its key: approve its next enrollment)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import pathlib
import socket
import sys
from typing import Any

from hallcentral.config import CentralConfig, load
from hallcore.configload import ConfigError


def _say(*parts: object, err: bool = False) -> None:
    out = sys.stderr if err else sys.stdout
    out.write(" ".join(str(p) for p in parts) + "\n")
    out.flush()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hallq central", description="Run the province/city centre.")
    p.add_argument("--config", required=True, type=pathlib.Path, help="central.toml")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--check-config", action="store_true")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("migrate")
    user = sub.add_parser("user").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add or reset a user (password read from stdin)")
    add.add_argument("username")
    add.add_argument("--region", required=True)
    add.add_argument("--admin", action="store_true")
    hall = sub.add_parser("hall").add_subparsers(dest="action", required=True)
    ap = hall.add_parser("approve", help="approve a pending hall into a region")
    ap.add_argument("hall")
    ap.add_argument("--region", required=True)
    hall.add_parser("list")
    for action in ("revoke", "rekey"):
        hall.add_parser(action).add_argument("hall")
    return p


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        config = load(args.config)
    except ConfigError as exc:
        _say(exc.report("hallq central", args.config), err=True)
        return 2
    if args.check_config:
        _say(f"{args.config}: OK ({len(config.regions)} regions)")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.cmd is None:
        return serve(
            config,
            args.host or config.server.host,
            args.port if args.port is not None else config.server.port,
        )
    return asyncio.run(_manage(config, args))


async def _manage(config: CentralConfig, args: Any) -> int:
    from hallcentral import auth, web
    from hallcentral.db import migrate
    from hallcentral.service import Central
    from hallcore.clock import SystemClock

    if args.cmd == "migrate":
        version = await migrate(config.database.dsn)
        _say(f"schema at version {version}")
        return 0
    central = Central(config, SystemClock())
    await central.start()
    try:
        if args.cmd == "user":
            password = sys.stdin.readline().rstrip("\n")
            if args.region not in {r.id for r in config.regions}:
                _say(f"no region {args.region!r} in {args.config}", err=True)
                return 2
            try:
                await auth.add_user(
                    central.pool, args.username, password, args.region, args.admin, central.now()
                )
            except ValueError as exc:
                _say(str(exc), err=True)
                return 2
            _say(f"user {args.username} in {args.region}{' (admin)' if args.admin else ''}")
            return 0
        if args.cmd == "hall" and args.action == "approve":
            if not await web.approve_hall(central, args.hall, args.region, "cli"):
                _say(f"no pending hall {args.hall!r}", err=True)
                return 2
            _say(f"hall {args.hall} approved into {args.region}")
            return 0
        if args.cmd == "hall" and args.action in ("revoke", "rekey"):
            if not await web.set_hall_state(central, args.hall, args.action, "cli"):
                _say(f"no hall {args.hall!r}", err=True)
                return 2
            _say(f"hall {args.hall}: {args.action}")
            return 0
        async with central.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT hall_id, name, state, code, region_id, acked_seq FROM halls ORDER BY hall_id"
            )
            for row in await cur.fetchall():
                _say(*row)
        return 0
    finally:
        await central.stop()


def serve(config: CentralConfig, host: str, port: int) -> int:
    import uvicorn

    from hallcentral.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    real_port = sock.getsockname()[1]
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            ws="wsproto",
            ws_per_message_deflate=False,
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
        )
    )

    async def run() -> None:
        async def announce() -> None:
            while not server.started:
                await asyncio.sleep(0.02)
            _say(f"hallq central: http://{host}:{real_port}/ ({config.name})")

        task = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0

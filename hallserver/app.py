"""The FastAPI app factory and `hallq server` (`serve_main`).

`create_app(config, db_path, clock, settings)` builds everything but starts nothing; uvicorn's lifespan
starts the store (engine rebuilt from the database), the hub and the background tasks, and stops them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import logging
import pathlib
import socket
import sys
import time
import typing
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from hallcore.clock import Clock, SystemClock
from hallcore.config import Durability, HallConfig
from hallcore.configload import ConfigError
from hallfiles.config import read_config
from hallserver import (
    api_hall,
    api_identity,
    api_import,
    api_notify,
    api_owed,
    api_stations,
    api_tickets,
    api_windows,
    openapi,
    web,
)
from hallserver.api_events import open_events
from hallserver.bodylimit import BodyLimit
from hallserver.bookimport import BookingImports
from hallserver.bookpartners import PartnerLinks
from hallserver.discovery import MdnsSettings
from hallserver.errors import ApiError, internal
from hallserver.evloop import new_event_loop
from hallserver.forecasts import worker_process
from hallserver.headers import SecurityHeaders
from hallserver.hotpath import HotPaths
from hallserver.keys import HallKeyError
from hallserver.limits import PublicLimits
from hallserver.notify_send import Notifier
from hallserver.private import PrivateFileError
from hallserver.proxies import ClientAddress, TrustedProxies
from hallserver.service import HallServer, Settings
from hallserver.shipper import Shipper
from hallserver.store import check_key
from hallserver.stream.server import StreamServer
from hallserver.tls import TlsError, TlsFiles
from hallserver.writectx import dumps

log = logging.getLogger(__name__)


def _error_response(err: ApiError) -> Response:
    return Response(dumps(err.body()), err.status, err.headers, media_type="application/json")


async def _on_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_response(exc)


async def _on_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        where = bad_json.get("ctx", {}).get("error", "")
        return _error_response(
            ApiError(
                400,
                "malformed_json",
                f"请求体不是合法的 JSON：{where}",
                f"the body is not valid JSON: {where}",
            )
        )
    problems = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        field = ".".join(loc) if loc else "(body)"
        problems.append({"field": field, "problem": e.get("msg", ""), "type": e.get("type", "")})
    first = problems[0] if problems else {"field": "(body)", "problem": "invalid"}
    if first["field"] == "(body)" and first.get("type") == "missing":
        return _error_response(
            ApiError(422, "invalid_field", "缺少 JSON 请求体", "a JSON body is needed", {"errors": problems})
        )
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return _error_response(
        ApiError(
            422,
            "invalid_field",
            f"字段 {first['field']} 有误：{first['problem']}{more}",
            f"field {first['field']}: {first['problem']}{more}",
            {"errors": problems},
        )
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (the router names only its first partial match)."""
    methods: set[str] = set()
    for route in openapi.flat_routes(request.app.router.routes):
        if not isinstance(getattr(route, "original_route", route), Route) or not route.methods:
            continue
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        err = ApiError(404, "not_found", "没有这个地址", "no such endpoint (see /openapi.json)")
    elif exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        err = ApiError(
            405,
            "method_not_allowed",
            f"该地址只支持 {allow}",
            f"this address takes {allow} only",
            {"allowed": allow.split(", ")},
            {"Allow": allow},
        )
    else:
        err = ApiError(
            exc.status_code, "http_error", str(exc.detail), str(exc.detail), headers=dict(exc.headers or {})
        )
    return _error_response(err)


async def _on_crash(_request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return _error_response(internal())


def create_app(
    config: HallConfig | pathlib.Path | str,
    db_path: pathlib.Path | str,
    clock: Clock | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """Build the app for one hall. A config path is remembered for `POST /api/admin/reload` and SIGHUP."""
    config_path: pathlib.Path | None = None
    if not isinstance(config, HallConfig):
        config_path = pathlib.Path(config)
        config = read_config(config_path)
    hall = HallServer(
        config, pathlib.Path(db_path), clock or SystemClock(), settings or Settings(), config_path
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await hall.start()
        await web.start(_app)
        shipper = Shipper(hall)  # ships the event log to the centre when [central] is enabled
        _app.state.shipper = shipper
        shipper.start()
        notifier = Notifier(hall)  # "快到您了" notices when [notify] is enabled (hallserver/notify_send.py)
        _app.state.notifier = notifier
        notifier.start()
        links = PartnerLinks(_app.state.imports)  # bookings from outside: reports back, published lists
        _app.state.partner_links = links
        links.start()
        try:
            yield
        finally:
            await links.stop()
            await notifier.stop()
            await shipper.stop()
            await web.stop(_app)
            await hall.stop()

    app = FastAPI(
        title="hallq hall server",
        version="1",
        description="Tickets, windows, bookings, ratings and the event stream of one hall (docs/api.md).",
        lifespan=lifespan,
        # No Swagger UI: it loads its script from the internet and runs inline script (the pages' CSP allows
        # neither); the schema is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.hall = hall
    app.state.imports = BookingImports(hall)
    # WebSocket upgrades never reach the ASGI app: uvicorn hands them to the stream path (uvicorn_config).
    streams = StreamServer(hall)
    streams.add_route("/events", functools.partial(open_events, hall))
    app.state.streams = streams
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_crash)
    for module in (
        api_tickets,
        api_identity,
        api_owed,
        api_windows,
        api_stations,
        api_hall,
        api_notify,
        api_import,
    ):
        app.include_router(module.router)
    app.include_router(api_notify.web_router)  # the phone page's opt-in (public, its token the key)
    # The web pages (hallserver/web, the phone page /s/{token} among them) and the dashboard's stream route.
    web.mount(app)

    app.add_middleware(BodyLimit)
    # Outermost: a public request over its budget is answered before anything else runs.
    app.add_middleware(PublicLimits, buckets=hall.buckets)
    openapi.install(app)
    return app


def uvicorn_config(
    app: FastAPI,
    sock_host: str,
    port: int,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> uvicorn.Config:
    """uvicorn for the app built by `create_app`: HTTP through httptools to the ASGI app, every WebSocket
    upgrade on the same socket to the stream path (`hallserver/stream`). With a certificate, both are served
    over TLS with it: the stream is behind the same certificate as the API, at the same URL (wss://)."""
    streams: StreamServer = app.state.streams
    hall: HallServer = app.state.hall
    return uvicorn.Config(
        # The client's address first (forwarding headers only from --trusted-proxy addresses), the security
        # headers on every answer, then GET /api/snapshot from the cache before the framework.
        ClientAddress(SecurityHeaders(HotPaths(app, hall)), hall.proxies),
        host=sock_host,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 (any local process): hallserver/proxies.py.
        proxy_headers=False,
        port=port,
        # uvicorn instantiates this for each upgrade, like its own WebSocket protocols (no compression).
        ws=typing.cast(Any, streams.protocol),
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        # asyncio accepts up to `backlog` connections per loop iteration: 64 bounds that work (a reconnect
        # storm of 5,000 phones would otherwise be accepted in one go). It also sets listen(64);
        # `restore_listen_backlog` puts the kernel queue back. Reads are bounded by hallserver/evloop.py.
        backlog=ACCEPT_BATCH,
    )


ACCEPT_BATCH = 64
#: The kernel's queue of connections not yet accepted (capped by net.core.somaxconn, 4096 on Debian): deep
#: enough that 5,000 phones reconnecting at once wait their turn instead of having their SYNs dropped and
#: retried a second later.
LISTEN_BACKLOG = 8192


def restore_listen_backlog(sock: socket.socket) -> None:
    """After uvicorn started serving on `sock`: a deep kernel queue, so a storm waits instead of SYN drops."""
    sock.listen(LISTEN_BACKLOG)


def bind(host: str, port: int) -> socket.socket:
    """Bind before starting so the real port (for port 0) is known to mDNS and the start-up line."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the proto says TCP;
    # with proto 0, a reply written in two parts waits for the client's delayed ACK (~40 ms per request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock


class OffsetClock:
    """Real time flow from a chosen start (demos and tests that need the hall open at any hour)."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._m0 = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._m0)

    def monotonic(self) -> float:
        return time.monotonic()


def serve_main(argv: list[str]) -> int:
    """`hallq server --config FILE [--db PATH] [--host 127.0.0.1] [--port 8700] [--tls-dir DIR]`."""
    parser = argparse.ArgumentParser(prog="hallq server", description="Run the hall server.")
    parser.add_argument("--config", required=True, type=pathlib.Path, help="the hall's TOML file")
    parser.add_argument("--db", type=pathlib.Path, help="SQLite file (default: <config stem>.db next to it)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument(
        "--durability", choices=[d.value for d in Durability], help="override server.durability"
    )
    parser.add_argument(
        "--key",
        type=pathlib.Path,
        help="the hall key's 0600 file (default: where the database recorded it, else <db>.key)",
    )
    parser.add_argument(
        "--tls-dir",
        type=pathlib.Path,
        help="serve HTTPS with the certificate in this directory (`hallq admin tls init`; docs/install.md)",
    )
    parser.add_argument(
        "--estimator",
        choices=("forecast", "inline"),
        default="inline",
        help="wait estimates from the forward model in a worker process (the inline estimate while it has no "
        "fresh result), or the inline estimate only (default)",
    )
    parser.add_argument("--no-mdns", action="store_true", help="do not advertise _hallq._tcp")
    parser.add_argument("--mdns-interface", action="append", help="advertise only on this interface address")
    parser.add_argument("--mdns-name", default="", help="service instance name")
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="believe X-Forwarded-For/-Proto from this address or network only (the gateway); repeatable",
    )
    # For tests, demos and benchmarks: hall time starts here and runs at real speed.
    parser.add_argument("--fake-start", help=argparse.SUPPRESS)
    parser.add_argument("--tick-s", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument("--heartbeat-s", type=float, default=5.0, help=argparse.SUPPRESS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        config = read_config(args.config)
    except ConfigError as exc:
        _say(exc.report("hallq server", args.config), file=sys.stderr)
        return 2
    except OSError as exc:
        _say(f"hallq server: cannot read {args.config}: {exc}", file=sys.stderr)
        return 2
    for warning in config.warnings:
        _say(f"hallq server: warning: {warning}", file=sys.stderr)
    try:
        TrustedProxies(args.trusted_proxy)
    except ValueError as exc:
        _say(f"hallq server: --trusted-proxy: {exc}", file=sys.stderr)
        return 2
    tls_files = TlsFiles(args.tls_dir) if args.tls_dir is not None else None
    ca_pem = ""
    if tls_files is not None:
        try:
            tls_files.check_server()
            ca_pem = tls_files.ca_pem()
        except TlsError as exc:
            _say(f"hallq server: --tls-dir: {exc}", file=sys.stderr)
            return 2
    db = args.db or args.config.with_suffix(".db")
    try:
        # The key first (moved out of an older database on the way): a missing or wrong key file is said
        # plainly here, before anything listens.
        check_key(db, args.key)
    except (HallKeyError, PrivateFileError, OSError) as exc:
        _say(f"hallq server: {exc}", file=sys.stderr)
        return 2
    clock: Clock = (
        OffsetClock(dt.datetime.fromisoformat(args.fake_start)) if args.fake_start else SystemClock()
    )
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    mdns = None
    if not args.no_mdns:
        addr = args.host if args.host not in ("0.0.0.0", "") else _lan_address()  # noqa: S104
        ifaces = tuple(args.mdns_interface) if args.mdns_interface else None
        mdns = MdnsSettings(
            port=port, addresses=(addr,), interfaces=ifaces, instance=args.mdns_name, tls=bool(ca_pem)
        )
    settings = Settings(
        durability=Durability(args.durability) if args.durability else None,
        mdns=mdns,
        tick_s=args.tick_s,
        heartbeat_s=args.heartbeat_s,
        reload_on_sighup=True,
        trusted_proxies=tuple(args.trusted_proxy),
        key_file=args.key,
        tls_ca_pem=ca_pem,
        forecasts=worker_process if args.estimator == "forecast" else None,
    )
    app = create_app(args.config, db, clock, settings)
    app.state.hall.config = config
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    certs: dict[str, str] = {}
    if tls_files is not None:
        certs = {"ssl_certfile": str(tls_files.cert), "ssl_keyfile": str(tls_files.key)}
    server = uvicorn.Server(uvicorn_config(app, args.host, port, **certs))
    scheme = "https" if tls_files is not None else "http"

    async def main() -> None:
        async def announce() -> None:
            while not server.started:
                await asyncio.sleep(0.02)
            restore_listen_backlog(sock)
            hall = app.state.hall
            _say(
                f"hallq server: {scheme}://{args.host}:{port}/ (hall {config.hall.id}, db {db}, "
                f"durability {hall.store.durability.value}, seq {hall.store.seq})",
                flush=True,
            )

        task = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def _say(*parts: object, file: Any = None, flush: bool = False) -> None:
    """CLI output (the start-up line is what scripts and tests wait for)."""
    out = file or sys.stdout
    out.write(" ".join(str(p) for p in parts) + "\n")
    if flush:
        out.flush()


def _lan_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: no packet is sent; picks the outgoing interface
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"

"""A remote's HTTP server for tests: a real `ThreadingHTTPServer` on 127.0.0.1 port 0 in a thread, answering
each request with what a callback returns (status, body bytes, extra headers). The fake provincial platform
(tests/fakes/province.py) and the fake booking partner (tests/fakes/partner.py) are built on it."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable
from typing import Any

#: (status, body, extra headers)
Answer = tuple[int, bytes, dict[str, str]]
OnPost = Callable[[str, dict[str, str], bytes], Answer]
OnGet = Callable[[str, dict[str, str]], Answer]


class JsonServer:
    def __init__(self, on_post: OnPost, on_get: OnGet | None = None) -> None:
        owner = self
        self.on_post = on_post
        self.on_get = on_get

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                self._send(*owner.on_post(self.path, dict(self.headers.items()), raw))

            def do_GET(self) -> None:
                if owner.on_get is None:
                    self._send(405, b"{}", {})
                else:
                    self._send(*owner.on_get(self.path, dict(self.headers.items())))

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

"""Start the service in-process: uvicorn on a free loopback port in a background thread.

::

    from service.server import start_server
    server = start_server(Settings(data_dir=tmp))    # returns once the server accepts requests
    print(server.url)                                # e.g. http://127.0.0.1:41237
    ...
    server.stop()                                    # or: with start_server(...) as server:
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from service.app import create_app
from service.settings import Settings

__all__ = ["RunningServer", "start_server"]


@dataclass
class RunningServer:
    url: str
    host: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(settings: Settings | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 timeout: float = 60.0, log_level: str = "warning") -> RunningServer:
    """Serve the API on ``host:port`` (port 0: a free one) from a daemon thread."""
    settings = settings or Settings()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level=log_level, lifespan="on",
                            access_log=False)
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    thread = threading.Thread(target=serve, name="linkage-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if failure or not thread.is_alive():
            sock.close()
            raise RuntimeError("the service failed to start") from (failure[0] if failure
                                                                   else None)
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("the service did not start in time")
        time.sleep(0.02)
    return RunningServer(f"http://{host}:{bound_port}", host, bound_port, server, thread)

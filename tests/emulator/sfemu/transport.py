"""HTTP/1.1 and TLS: uvicorn (httptools parser, uvloop event loop) in front of server.handle().

uvicorn owns the wire: keep-alive, chunked request bodies, ``Expect: 100-continue``, pipelined requests
(answered in order), HEAD (headers of the GET, no body), request-line and header validation, TLS with
the CA generated at start. This module only turns an ASGI request into a server.Request and a
server.Response back into ASGI messages. The emulator's routing, store and rules stay in server.py.

Request handling is synchronous (one estate lock, fault latency by sleeping), so each request runs in a
worker thread of a pool as large as the old thread-per-connection server allowed, and the event loop
keeps accepting and reading the other connections meanwhile.
"""
import asyncio
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from .server import Request, handle

WORKERS = 512                   # threads for requests in progress (idle keep-alive connections take none)
KEEP_ALIVE_SECONDS = 120        # an idle keep-alive connection is closed after this
BACKLOG = 1024


class EmulatorASGI:
    """ASGI 3 application: the whole request body is read (de-chunked by uvicorn), then handled in a thread."""

    def __init__(self, app, verbose=False):
        self.app = app
        self.verbose = verbose
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sfemu")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return                  # lifespan is off; nothing else is served
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        request = Request(scope["method"], raw_path.decode("latin-1"), scope["query_string"].decode("latin-1"),
                          [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
                          b"".join(chunks))
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self.pool, handle, self.app, request)
        if self.verbose:
            client = scope.get("client") or ("-", 0)
            target = request.path + ("?" + request.query if request.query else "")
            line = '%s "%s %s HTTP/%s" %d' % (client[0], request.method, target, scope["http_version"], response.status)
            sys.stderr.write(line + "\n")
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]})
        await send({"type": "http.response.body", "body": response.payload})


class EmulatorServer:
    """A listening HTTPS server for one Emulator: bind() at once (the port is known), then run()."""

    def __init__(self, address, app, ssl_context, verbose=False):
        host, port = address
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.set_inheritable(True)
        self.server_address = self.socket.getsockname()[:2]
        self.asgi = EmulatorASGI(app, verbose=verbose)
        config = uvicorn.Config(
            self.asgi, http="httptools", loop="uvloop", lifespan="off", interface="asgi3",
            backlog=BACKLOG,
            timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=5,
            server_header=False, date_header=True, access_log=False, log_level="warning",
            proxy_headers=False)
        config.load()
        # The context of tls.py (TLS 1.2 at least, the generated chain), not one uvicorn builds from files.
        config.ssl = ssl_context
        self.server = uvicorn.Server(config)

    def run(self, on_ready=None):
        """Serve until SIGTERM/SIGINT; ``on_ready()`` runs once the socket accepts connections."""
        # uvicorn catches SIGTERM/SIGINT for a graceful stop and raises them again once stopped:
        # these handlers make that second delivery harmless, so the caller's clean-up runs and exits 0.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._serve(on_ready))
        finally:
            self.asgi.pool.shutdown(wait=False, cancel_futures=True)
            self.socket.close()

    async def _serve(self, on_ready):
        task = asyncio.ensure_future(self.server.serve(sockets=[self.socket]))
        while not self.server.started and not task.done():
            await asyncio.sleep(0.005)
        if self.server.started and on_ready is not None:
            on_ready()
        await task

    def close(self):
        self.server.should_exit = True


def _loop_factory():
    """uvloop's event loop (faster TLS and sockets), asyncio's own where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop

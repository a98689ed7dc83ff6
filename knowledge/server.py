"""Run the knowledge service on one port with several worker processes.

A search is about a millisecond of CPU in one Python process, so one process serves one
core, and several workers need the connections spread evenly between them. Neither
usual way does that for clients that keep their connections open (the action server's
pool, a load balancer, a benchmark): with uvicorn's ``--workers`` the first worker to
wake accepts every waiting connection, and ``SO_REUSEPORT`` hashes connections to
workers at random (8 connections on 2 workers are split 7:1 or worse one time in 14).

So this supervisor accepts the connections itself and hands each one (its file
descriptor, over a Unix socket) to the worker with the fewest open connections. After
the hand-off the worker serves the connection like any uvicorn connection; the parent
does nothing per request.

The index is built (or found fresh) once, in the parent, before the workers start: they
only load it, and each keeps watching the ``current`` pointer for rebuilds. The port
accepts connections once every worker is ready.

Metrics and logs (knowledge/observability): the workers share their metrics through
``PROMETHEUS_MULTIPROC_DIR`` (emptied here before they start, so any worker answers ``/metrics``
for all of them), and write JSON lines with ``DVC_LOG_FORMAT=json``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

from knowledge.observability.logs import configure_logging, install_log_masking, log_format, uvicorn_log_config
from knowledge.observability.prometheus import metrics_token, prepare_multiprocess_dir
from knowledge.settings import Settings, get_settings

log = logging.getLogger(__name__)
APP = "knowledge.api.app:create_app"


def default_workers() -> int:
    """At most two: the rest of each core goes to Rasa and the action server."""
    return max(1, min(2, os.cpu_count() or 1))


def serve(settings: Settings | None = None, workers: int | None = None, log_level: str = "info") -> int:
    import uvicorn

    settings = settings or get_settings()
    metrics_token()  # SettingError (too short for production) before the port opens
    prepare_multiprocess_dir()
    workers = workers or settings.workers or default_workers()
    if workers == 1 or not hasattr(socket, "send_fds"):
        install_log_masking()
        uvicorn.run(APP, factory=True, host=settings.host, port=settings.port, log_level=log_level,
                    **_log_config(log_level))
        return 0
    configure_logging("knowledge", log_level.upper())
    return Supervisor(settings, workers, log_level).run()


def _log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging: JSON lines through the masking formatter, or uvicorn's own lines."""
    return {"log_config": uvicorn_log_config("knowledge", log_level)} if log_format() == "json" else {}


class Supervisor:
    def __init__(self, settings: Settings, workers: int, log_level: str) -> None:
        self.settings = settings
        self.workers = workers
        self.log_level = log_level
        self.stopping = False
        self._next = 0

    def run(self) -> int:
        listener = _listen(self.settings.host, self.settings.port)  # fail early if the port is taken
        ctx = multiprocessing.get_context("spawn")
        # Build (or check) the index once, in a child: the workers only load it, and the
        # supervisor stays small (it never imports the search libraries).
        builder = ctx.Process(target=_ensure_index, args=(self.settings,), name="knowledge-index")
        builder.start()
        builder.join()
        if builder.exitcode != 0:
            log.error("the index could not be built or loaded (exit code %s); see the messages above",
                      builder.exitcode)
            listener.close()
            return builder.exitcode or 1
        # Open connections of worker i = handed[i] (counted here) - closed[i] (counted by
        # the worker): each counter has one writer, so there is no race between them.
        self.handed = [0] * self.workers
        self.closed = ctx.Array("q", self.workers, lock=False)
        ready = [ctx.Event() for _ in range(self.workers)]
        self.channels: list[socket.socket] = []
        self.procs: list[Any] = []
        for i in range(self.workers):
            parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            args = (self.settings, self.log_level, child_end, self.closed, i, ready[i])
            proc = ctx.Process(target=_worker, args=args, name=f"knowledge-worker-{i}")
            proc.start()
            child_end.close()
            self.channels.append(parent_end)
            self.procs.append(proc)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            code = self._wait_ready(ready)
            if code == 0:
                log.info("knowledge service: %d workers on http://%s:%d", self.workers, self.settings.host,
                         self.settings.port)
                code = self._accept_loop(listener)
        finally:
            listener.close()
            self._shutdown()
        return code

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _dead_worker(self) -> int | None:
        for p in self.procs:
            if not p.is_alive():
                log.error("knowledge worker %s exited with code %s; stopping the others", p.name, p.exitcode)
                return p.exitcode or 1
        return None

    def _wait_ready(self, ready: list[Any]) -> int:
        while not self.stopping:
            dead = self._dead_worker()
            if dead is not None:
                return dead
            if all(e.is_set() for e in ready):
                return 0
            time.sleep(0.1)
        return 0

    def _accept_loop(self, listener: socket.socket) -> int:
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        try:
            while not self.stopping:
                for _ in selector.select(timeout=0.5):
                    self._hand_off(listener)
                dead = self._dead_worker()
                if dead is not None:
                    return dead
        finally:
            selector.close()
        return 0

    def _hand_off(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: keep serving the others
                log.warning("accept failed: %s", exc)
                return
            with conn:
                target = self._least_loaded()
                try:
                    socket.send_fds(self.channels[target], [b"c"], [conn.fileno()])
                    self.handed[target] += 1
                except OSError as exc:
                    log.warning("could not hand a connection to worker %d: %s", target, exc)

    def _least_loaded(self) -> int:
        n = self.workers
        start = self._next = (self._next + 1) % n  # ties go round
        return min(((start + k) % n for k in range(n)), key=lambda i: self.handed[i] - self.closed[i])

    def _shutdown(self) -> None:
        for ch in self.channels:
            ch.close()  # the workers read end-of-file and shut down gracefully
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        deadline = time.monotonic() + 10
        for p in self.procs:
            p.join(timeout=max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(timeout=5)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        sys.exit(f"knowledge service: cannot listen on {host}:{port}: {exc.strerror}")
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _ensure_index(settings: Settings) -> None:
    from knowledge.errors import KnowledgeError
    from knowledge.service import ensure_index

    try:
        ensure_index(settings)
    except KnowledgeError as exc:  # a data problem: say what, without a traceback
        print(f"knowledge service: {exc}", file=sys.stderr)
        sys.exit(2)


def _worker(settings: Settings, log_level: str, channel: socket.socket, closed: Any, slot: int, ready: Any) -> None:
    import uvicorn

    from knowledge.api.app import create_app
    from knowledge.api.deps import IndexHolder

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    install_log_masking()
    holder = IndexHolder(settings)
    holder.start()
    config = uvicorn.Config(create_app(settings, holder), log_level=log_level, timeout_graceful_shutdown=5,
                            **_log_config(log_level))
    server = uvicorn.Server(config)

    async def adopt_connections() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()

        done = 0  # connections this worker has finished with, published as they end

        def finished() -> None:
            nonlocal done
            done += 1
            closed[slot] = done

        def protocol() -> asyncio.Protocol:  # what uvicorn builds for each accepted connection
            proto: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=server.server_state, app_state=server.lifespan.state, _loop=loop)
            lost = proto.connection_lost

            def connection_lost(exc: Exception | None) -> None:
                lost(exc)
                finished()  # at once, so the supervisor's count is never stale

            proto.connection_lost = connection_lost  # type: ignore[method-assign]
            return proto

        async def adopt(fd: int) -> None:
            try:
                await loop.connect_accepted_socket(protocol, socket.socket(fileno=fd))
            except OSError as exc:  # the client left before we got to it
                log.debug("dropped a handed-over connection: %s", exc)
                finished()

        def readable() -> None:
            try:
                msg, fds, _, _ = socket.recv_fds(channel, 1, 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                msg, fds = b"", []
            if not msg and not fds:  # the supervisor is gone: finish what is in flight, then exit
                loop.remove_reader(channel.fileno())
                server.should_exit = True
                return
            for fd in fds:
                loop.create_task(adopt(fd))

        channel.setblocking(False)
        loop.add_reader(channel.fileno(), readable)
        ready.set()

    async def main() -> None:
        feeder = asyncio.create_task(adopt_connections())
        await server.serve(sockets=[])
        feeder.cancel()

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())

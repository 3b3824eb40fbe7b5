"""The bench's baseline: a bare grpcio server answering an empty message, with the services'
thread count and server options, in as many processes as the services get.

    python -m pivotal_bench.noop <port>     (PIVOTAL_MAX_WORKERS, PIVOTAL_WORKERS)
"""

from __future__ import annotations

import signal
import sys
import threading
from concurrent import futures

from pivotal_runtime.settings import load_settings
from pivotal_runtime.workers import Supervisor, worker_count

NOOP_METHOD = "/pivotal.bench.Noop/Call"


def serve(port: int) -> None:
    settings = load_settings()
    if settings.worker_index is None and worker_count(settings) > 1:
        command = [sys.executable, "-m", "pivotal_bench.noop", str(port)]
        sys.exit(Supervisor(command, worker_count(settings),
                            grace_seconds=settings.grace_period_seconds).run())
    import grpc
    from pivotal_runtime.server import server_options

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=settings.max_workers),
                         options=server_options(settings))
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: b"",
                                                  request_deserializer=None,
                                                  response_serializer=None)
    service, method = NOOP_METHOD.lstrip("/").split("/")
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        service, {method: handler}),))
    server.add_insecure_port(f"{settings.host}:{port}")
    server.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    serve(int(sys.argv[1]))

"""`python -m app`: the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set, otherwise gunicorn;
`python -m app <url>` prints the article instead (app/cli.py)."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from typing import Any

from app import ConfigError, configure_logging, create_app

log = logging.getLogger("text_mode")

HANDLER = "app.lambda_handler.handler"  # the Dockerfile's CMD names the same one

M_ARENA_MAX = -8  # glibc's <malloc.h>
# glibc gives each thread that allocates an arena of its own, up to 8 a core, and each keeps what it held: at 32
# connections of real pages a worker grew to 274 MiB in 2 minutes, still rising; with 2 arenas it levels at about
# 126 MiB, for 4 to 7% more CPU a fresh answer (bench/memory.py, README "Memory"). Lambda's one thread needs none.
MALLOC_ARENAS = 2


def gunicorn_options(environ: dict[str, str]) -> dict[str, Any]:
    """Gunicorn's settings from PORT and WEB_CONCURRENCY; threads so a slow origin blocks no one else."""
    raw_port = environ.get("PORT", "8080")
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ConfigError(f"PORT={raw_port!r} must be a port number between 1 and 65535")
    raw_workers = environ.get("WEB_CONCURRENCY", "2")
    if not raw_workers.isdigit() or not 0 < int(raw_workers) <= 64:
        raise ConfigError(f"WEB_CONCURRENCY={raw_workers!r} must be a whole number between 1 and 64")
    return {
        "bind": f"0.0.0.0:{raw_port}",
        "workers": int(raw_workers),
        "worker_class": "gthread",
        # Threads mostly wait on origins: with 8, 20 requests to a slow site kept a cached answer waiting 2.7 s;
        # with 32 it took 6 ms, at the same RSS (bench/speed.py workers).
        "threads": 32,
        "timeout": 60,
        "graceful_timeout": 15,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "control_socket_disable": True,  # gunicorn 27 would write a socket under $HOME
        "preload_app": True,
    }


def limit_malloc_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas for this process and the workers it forks; False where malloc is not glibc's.

    Call it before any thread starts: glibc fixes the limit when a second thread first allocates.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this interpreter is linked with
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, count))


def serve(options: dict[str, Any]) -> None:
    """Run the app under gunicorn with these options until SIGTERM."""
    from gunicorn.app.base import BaseApplication

    application = create_app()

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    log.info("Starting up on own, listening on %s", options["bind"])
    Server().run()


def run_lambda() -> None:
    """Run awslambdaric's runtime loop in this process, as `python -m awslambdaric app.lambda_handler.handler` does.

    In this process, not a second one: the interpreter and Flask load once (a second process doubles the cold start).
    awslambdaric imports the handler module itself, so a bad setting raised there becomes a Lambda init error.
    """
    from awslambdaric.__main__ import main as runtime_main

    log.info("Starting up in Lambda Runtime")
    runtime_main([sys.argv[0], HANDLER])


def main() -> None:
    """Choose the Lambda runtime or gunicorn by AWS_LAMBDA_RUNTIME_API (blank counts as unset); with
    arguments, the command line."""
    if len(sys.argv) > 1:
        from app.cli import main as command_line

        sys.exit(command_line(sys.argv[1:]))
    environ = dict(os.environ)
    runtime_api = environ.get("AWS_LAMBDA_RUNTIME_API", "").strip()
    configure_logging(json_lines=bool(runtime_api))
    try:
        if runtime_api:
            run_lambda()
        else:
            limit_malloc_arenas(MALLOC_ARENAS)
            serve(gunicorn_options(environ))
    except ConfigError as error:
        log.error("Configuration error: %s", error)
        sys.exit(2)


if __name__ == "__main__":
    main()

"""`python -m app`: the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set, otherwise gunicorn."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from app import ConfigError, configure_logging, create_app

log = logging.getLogger("text_mode")


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
        "threads": 8,
        "timeout": 60,
        "graceful_timeout": 15,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "control_socket_disable": True,  # gunicorn 27 would write a socket under $HOME
        "preload_app": True,
    }


def serve(environ: dict[str, str]) -> None:
    """Run the app under gunicorn until SIGTERM."""
    from gunicorn.app.base import BaseApplication

    options = gunicorn_options(environ)
    application = create_app()

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    log.info("Starting up on own, listening on %s", options["bind"])
    Server().run()


def run_lambda(runtime_api: str) -> None:
    """Run the AWS Lambda runtime loop with app.lambda_handler.handler."""
    from awslambdaric import bootstrap

    log.info("Starting up in Lambda Runtime")
    bootstrap.run(os.getcwd(), "app.lambda_handler.handler", runtime_api)


def main() -> None:
    """Choose the Lambda runtime or gunicorn by AWS_LAMBDA_RUNTIME_API (blank counts as unset)."""
    configure_logging()
    environ = dict(os.environ)
    runtime_api = environ.get("AWS_LAMBDA_RUNTIME_API", "").strip()
    try:
        if runtime_api:
            run_lambda(runtime_api)
        else:
            serve(environ)
    except ConfigError as error:
        log.error("Configuration error: %s", error)
        sys.exit(2)


if __name__ == "__main__":
    main()

"""text-mode: any web page's article as clean plain text, for curl and the browser."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request

from app.cache import create_cache
from app.settings import DEFAULTS, ConfigError, settings_from_env

__all__ = ["ConfigError", "create_app"]


class JsonLines(logging.Formatter):
    """One JSON object a line, with the Lambda request id, for CloudWatch Logs to filter on."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": _lambda_request_id(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _lambda_request_id() -> str | None:
    """The id of the Lambda invocation being served: apig-wsgi puts the Lambda context in the WSGI environ."""
    if not has_request_context():
        return None
    return getattr(request.environ.get("apig_wsgi.context"), "aws_request_id", None)


def configure_logging(*, json_lines: bool = False) -> None:
    """Send the service's log lines to stderr at INFO, once; as JSON lines when running in Lambda.

    The level is set here because awslambdaric puts its own handler at WARNING on the root logger.
    """
    logger = logging.getLogger("text_mode")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    if json_lines:
        for each in logger.handlers:
            each.setFormatter(JsonLines())


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the application: defaults, then the environment, then the test mapping."""
    from app.routes import bp, register_app_handlers

    configure_logging()
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(settings_from_env(os.environ))
    if test_config is not None:
        app.config.update(test_config)
    config = app.config
    app.extensions["text_mode_cache"] = create_cache(
        config["CACHE"], ttl=config["CACHE_TTL"], max_bytes=config["CACHE_MAX_BYTES"]
    )
    # One request at a time in a process extracts and renders (all that touches lxml trees); fetching waits on no one.
    # lxml parses without the GIL and threads come to share one libxml2 string dictionary through a shared parser
    # (lxml.html's own), so two at once corrupted the heap: workers died of SIGABRT and SIGSEGV under load. Taking
    # turns costs no CPU under the GIL (36 ms a fresh answer, 44 ms all at once) and a worker holds one page's
    # trees, not 32 (bench/memory.py, README "Memory").
    app.extensions["text_mode_lxml_turn"] = threading.Lock()
    app.register_blueprint(bp, url_prefix=app.config["PREFIX"] or None)
    register_app_handlers(app)
    return app

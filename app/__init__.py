"""text-mode: any web page's article as clean plain text, for curl and the browser."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.settings import DEFAULTS, ConfigError, settings_from_env

__all__ = ["ConfigError", "create_app"]


def configure_logging() -> None:
    """Send the service's log lines to stderr at INFO, once."""
    logger = logging.getLogger("text_mode")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the application: defaults, then the environment, then the test mapping."""
    from app.routes import bp, register_app_handlers

    configure_logging()
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(settings_from_env(os.environ))
    if test_config is not None:
        app.config.update(test_config)
    app.register_blueprint(bp, url_prefix=app.config["PREFIX"] or None)
    register_app_handlers(app)
    return app

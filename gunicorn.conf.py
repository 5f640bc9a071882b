"""gunicorn settings for `make run` and `make bench`; the environment overrides."""

import multiprocessing
import os

from app.logs import logging_config

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# One sync worker per core (at least two): requests here are CPU work plus short
# database calls, so more workers only contend for the cores. Measured with
# `make bench` on 2 cores: 2 workers served 10-25 % more requests/s than the
# usual 2 x cores + 1, with lower p99. Raise WEB_CONCURRENCY where the database
# is far away and workers spend their time waiting on it.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG")  # e.g. "-" for stdout; off by default
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn 27's control socket lives at one path per user: two services (or a
# service and its benchmark) would fight over it. Nothing here uses it.
control_socket_disable = True
# gunicorn's own lines in the app's format (JSON, or LOG_FORMAT=text).
logger_class = "app.logs.GunicornLogger"
logconfig_dict = logging_config(
    os.environ.get("LOG_FORMAT", "json").lower(), loglevel.upper(), accesslog
)

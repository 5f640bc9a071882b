"""gunicorn settings for `make run` and `make bench`; the environment overrides."""

import multiprocessing
import os

from app import database
from app.logs import logging_config

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# One worker process per core (at least two), each serving requests on a pool
# of threads: a client that trickles or stalls holds one thread for at most
# app.server.READ_TIMEOUT (10 s), not a whole worker; the other threads and
# workers keep answering. Sync workers read each request themselves: two
# stalled clients stopped every other request until the 30 s worker timeout.
# Requests here are CPU work plus short, bounded database calls (5 s statement
# timeout), so more processes only contend for the cores; `make bench`
# compares this setup with the former one (2 sync workers) on the same run.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "app.server.BoundedThreadWorker")
# 8 threads: a worker holds up to 7 stalled clients and still answers. A
# worker accepts only while a thread is free (app/server.py), so stalls that
# fill one worker leave new clients to the others. 8 against 4 threads
# (bench/threads.py, median of 3 rounds): GET one 2 701 / 2 778 req/s on
# SQLite, 1 712 / 1 877 on PostgreSQL; PATCH 1 368 / 1 348 and 1 169 / 1 213.
# At most 9 % less, for twice the stalled clients held.
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Each of a worker's database engines (PostgreSQL has two: the main one and the
# autocommit one) keeps one connection per thread, opened as the worker starts:
# a thread always finds one, and no request opens a connection (with pools of 5
# under 8 threads, 16 clients made the service open 44 to 119 connections per
# 2000 requests: bench/connections.py). The most a service holds on PostgreSQL:
# workers x threads x 2 (32 by default), and up to twice that for a moment
# (app.database.pool_options).
# A request waits at most 5 s for a connection, then answers 503. The hooks at
# the end size the pools and open them.


# Kills a worker whose main loop stops; a thread's request is bounded by the
# database timeouts (app/database.py), well below this.
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


def post_fork(server, worker):
    # Before the worker loads the app; DB_POOL_SIZE, if set, wins.
    if not os.environ.get("DB_POOL_SIZE"):
        os.environ["DB_POOL_SIZE"] = str(worker.cfg.threads)


def post_worker_init(worker):
    database.fill_pools(worker.wsgi)

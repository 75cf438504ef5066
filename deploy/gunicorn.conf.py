"""gunicorn settings for one service: `gunicorn -c deploy/gunicorn.conf.py 'services.plans.app:create_app()'`."""
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("THREADS", "2"))
timeout = 30
graceful_timeout = 20
accesslog = None  # the app writes JSON access logs with request id and traceparent
limit_request_line = 8190

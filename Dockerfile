# syntax=docker/dockerfile:1
# Kinerja: one image for every process of the production topology (deploy/compose.yaml,
# deploy/k8s/). The command chooses the process:
#
#   gunicorn -c python:kinerja.gunicorn_conf "services.plans.app:create_app()"   a web app (plans,
#                                             reviews, surveys, notifications, portal)
#   kinerja worker --service plans            a service's outbox relay + event consumer
#   kinerja db upgrade                        create the databases and migrate (one-shot)
#   kinerja flows deploy                      register the Prefect deployments (one-shot)
#   prefect server start --host 0.0.0.0       the Prefect server (on PostgreSQL)
#   prefect worker start --pool kinerja --type process    the Prefect worker running the flows
#
# Build:  docker build -t kinerja:latest .      (BuildKit, the default since Docker Engine 23)
#
# tests/deploy/test_image.py does what this file does without a container engine: builds the
# same wheel with the build stage's command, installs it into a fresh virtual environment with
# the runtime stage's `pip install` line (read from this file), and runs the commands above.
# Keep each of those two commands on one RUN line.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- build: the project's wheel
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Only what the wheel is made of (.dockerignore keeps everything else out of the context).
COPY pyproject.toml README.md ./
COPY services ./services
COPY kinerja ./kinerja
COPY flows ./flows
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
# The `kinerja` user and group (numeric, so Kubernetes' runAsNonRoot can verify it).
RUN groupadd --system --gid 10001 kinerja \
 && useradd --system --uid 10001 --gid kinerja --home-dir /app --no-create-home --shell /usr/sbin/nologin kinerja \
 && mkdir -p /app /tmp/metrics /tmp/prefect /var/lib/kinerja/audit \
 && chown kinerja:kinerja /app /tmp/metrics /tmp/prefect /var/lib/kinerja/audit
# The wheel and its pinned dependencies, without the dev extra. The wheel is bind-mounted from the
# build stage, so it never becomes a layer of this image. `kinerja`, `gunicorn` and `prefect`
# land in /usr/local/bin (on PATH).
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore /wheels/kinerja-*.whl

# Defaults for every process; compose and the Kubernetes ConfigMap set the rest (DATABASE_URL,
# BROKER_URL, JWT_JWKS_URL, ...; README "Configuration").
#   KINERJA_MODE             production: PostgreSQL, RabbitMQ, RS256 tokens from the JWKS
#   BIND                     where gunicorn listens (kinerja/gunicorn_conf.py; its own default
#                            is loopback); every web app of the topology listens on port 8000
#   PROMETHEUS_MULTIPROC_DIR gunicorn's workers share their counters here (created above, owned
#                            by kinerja; Kubernetes mounts an emptyDir on it)
#   PREFECT_HOME             the Prefect CLI's scratch (profiles, UI build); the server keeps its
#                            state in PostgreSQL
#   HEALTHCHECK_PATH         what the HEALTHCHECK below asks for: /healthz is the portal's; each
#                            service answers /<service>/healthz (compose sets it per web app and
#                            disables the check for workers and one-shots, which serve no HTTP)
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KINERJA_MODE=production \
    BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
    PREFECT_HOME=/tmp/prefect \
    HEALTHCHECK_PATH=/healthz

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# No curl in the slim image: Python asks the app on the port of BIND; any answer other than 2xx
# (or none within 4 s) fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('BIND', '0.0.0.0:8000').rpartition(':')[2]; urllib.request.urlopen('http://127.0.0.1:' + port + os.environ.get('HEALTHCHECK_PATH', '/healthz'), timeout=4)"]

# The portal by default; compose and Kubernetes give every container its own command.
CMD ["gunicorn", "-c", "python:kinerja.gunicorn_conf", "services.portal.app:create_app()"]

# syntax=docker/dockerfile:1
#
# One file, several targets.
#   app      the TCC Log service *and* the operator (one image, different commands):
#              tcclog serve | migrate | backup | restore      (the app, backup jobs)
#              tcclog-operator run                           (the operator)
#            docker build --target app -t ghcr.io/tcclog/tcclog:0.1.0 .
#   postgres the official PostgreSQL image plus Patroni and pgBackRest; runs one member of
#            the StatefulSet the operator renders (render/postgres.py):
#              docker build --target postgres -t ghcr.io/tcclog/tcclog-postgres:0.1.0 .
#
# The package is installed exactly as CI installs it (`pip install .`), from the same
# pyproject.toml, so the image and the tests run the same code.

ARG PYTHON_VERSION=3.11
ARG PG_MAJOR=17

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY README.md* ./
COPY operator ./operator
COPY app ./app
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install .

FROM python:${PYTHON_VERSION}-slim AS app
ARG PG_MAJOR
# pg_dump/pg_restore for `tcclog backup|restore`: from the PostgreSQL project's own
# repository, because pg_dump must not be older than the server it dumps.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc \
      -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
 && . /etc/os-release \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-${PG_MAJOR} \
 && apt-get purge -y curl gnupg && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
# The UID/GID the rendered pods run as (render/security.py APP_UID, deploy/base).
RUN groupadd --gid 10001 tcclog \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tcclog
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Numeric user, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
CMD ["tcclog", "serve", "--host", "0.0.0.0", "--port", "8000"]

# PostgreSQL member: Patroni (Kubernetes DCS) runs PostgreSQL; pgBackRest for physical
# backups. Same PG_MAJOR as render/patroni.py (bin_dir) and the app image's pg_dump.
FROM postgres:${PG_MAJOR}-bookworm AS postgres
ARG PG_MAJOR
ARG PATRONI_VERSION=4.1.5
# pgBackRest comes from the PostgreSQL project's repository, already configured in the
# official image. Patroni lives in its own virtualenv, away from the system Python.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv pgbackrest \
 && python3 -m venv /opt/patroni \
 && /opt/patroni/bin/pip install --no-cache-dir "patroni[psycopg3]==${PATRONI_VERSION}" \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
ENV PATH=/opt/patroni/bin:/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1
# The image's `postgres` user (UID/GID 999, render/postgres.py POSTGRES_UID); numeric so
# Kubernetes can verify runAsNonRoot. The root filesystem may be read-only: Patroni and
# PostgreSQL write only to the data volume, /tmp and /var/run/postgresql (emptyDirs).
USER 999:999
EXPOSE 5432 8008
ENTRYPOINT []
CMD ["patroni", "/etc/patroni/patroni.yaml"]

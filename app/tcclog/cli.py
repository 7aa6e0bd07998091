"""`tcclog serve | migrate | openapi | backup | restore`."""

from __future__ import annotations

import argparse
import json
import sys

import structlog

from tcclog.core.config import Settings
from tcclog.core.logging import configure_logging

log = structlog.get_logger("tcclog.cli")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from tcclog.main import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, workers=1,
                log_config=None, access_log=False)
    return 0


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from tcclog.core.migrations import migrate

    applied = migrate(settings.database_url)
    log.info("migrate_done", applied=applied)
    return 0


def _openapi(settings: Settings, _: argparse.Namespace) -> int:
    from tcclog.main import create_app

    sys.stdout.write(json.dumps(create_app(settings).openapi(), indent=2) + "\n")
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from tcclog.core.backup import backup
    from tcclog.core.storage import Storage

    storage = Storage(settings)
    storage.ensure_bucket()
    key = backup(settings, storage, args.name)
    sys.stdout.write(key + "\n")
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from tcclog.core.backup import restore
    from tcclog.core.storage import Storage

    key = restore(settings, Storage(settings), args.key)
    sys.stdout.write(key + "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="tcclog", description="TCC Log service")
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    sub.add_parser("openapi", help="print the OpenAPI document").set_defaults(func=_openapi)
    bak = sub.add_parser("backup", help="pg_dump -Fc to S3")
    bak.add_argument("--name", help="backup name (default: UTC timestamp)")
    bak.set_defaults(func=_backup)
    res = sub.add_parser("restore", help="restore a backup from S3 (default: the latest)")
    res.add_argument("--key", help="object key (default: latest under the backup prefix)")
    res.set_defaults(func=_restore)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from pydantic import ValidationError

    try:
        # The OpenAPI document needs no secrets or services: don't demand them.
        settings = Settings(environment="dev") if args.command == "openapi" else Settings()
    except ValidationError as exc:
        # Only locations and messages: pydantic's default text echoes the input, secrets included.
        for error in exc.errors(include_input=False, include_url=False):
            where = "TCCLOG_" + "_".join(str(p) for p in error["loc"]).upper()
            sys.stderr.write(f"invalid settings: {where.rstrip('_')}: {error['msg']}\n")
        return 2
    # Commands that print results keep stdout clean: their logs go to stderr.
    configure_logging(settings.log_level, None if args.command == "serve" else sys.stderr)
    try:
        return int(args.func(settings, args))
    except Exception as exc:
        from tcclog.core.backup import BackupError

        if isinstance(exc, BackupError):
            log.error("command_failed", command=args.command, error=str(exc))
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())

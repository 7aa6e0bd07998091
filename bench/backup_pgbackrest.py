"""pgBackRest full-backup throughput against pg_basebackup, and restore time, on loopback.

    .venv/bin/python -m bench.backup_pgbackrest [--scale 70]

A PostgreSQL 15 primary with `pgbench -i -s SCALE` (70 gives ~1 GB), WAL archived with the
rendered archive_command, its `pgbackrest server` sidecar (TLS), and the rendered
repository-host config (tests/integration/backup/harness.py: only paths, hosts and ports
replaced). Every figure is database size / wall time of one run:

- pg_basebackup -Ft -X fetch -c fast to local disk (uncompressed; and -z gzip);
- pgBackRest to a local posix repository (the same destination kind as pg_basebackup),
  compress-type none and lz4, process-max 1 and 2 (--no-archive-check: this cluster's WAL
  is archived to the S3 repository, not to this one);
- pgBackRest to S3 (moto behind nginx TLS, both on loopback): the CronJob's command with the
  rendered settings (lz4, process-max 2), and compress-type none;
- restore of the latest S3 backup into an empty directory (pgbackrest restore), then
  PostgreSQL start to ready.
Bounded: each step runs once with a timeout. No assertions; it prints figures.
"""

from __future__ import annotations

import argparse
import shutil
import time

from tests.integration import _services as svc
from tests.integration.backup.harness import (
    STANZA,
    Node,
    S3Endpoint,
    cleanup,
    new_root,
    own_tree,
    tcclog,
)


def timed(label: str, size: int, action: object) -> float:
    started = time.monotonic()
    action()  # type: ignore[operator]
    elapsed = time.monotonic() - started
    print(f"{label:<58} {elapsed:7.1f} s  {size / elapsed / 2**20:7.1f} MiB/s", flush=True)  # noqa: T201
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=70, help="pgbench scale (70 ~ 1 GB)")
    args = parser.parse_args()
    s3 = S3Endpoint(new_root("tcclog-bench-s3-"))
    s3.start()
    node = Node(new_root("tcclog-bench-pg-"), tcclog(s3.port), s3.port)
    try:
        node.setup()
        node.run(["pgbench", "-i", "-s", str(args.scale), "-q", "-h", str(node.socket),
                  "-p", str(node.port), "-U", "postgres", "postgres"], node.env("pg"),
                 timeout=1800)
        node.sql("CHECKPOINT")
        size = int(node.sql("SELECT pg_database_size('postgres')")[0][0])
        print(f"database: pgbench scale {args.scale}, {size / 2**20:.0f} MiB; "  # noqa: T201
              f"{svc.PG_BIN}", flush=True)
        out = node.root / "out"
        out.mkdir()
        own_tree(out)
        env = node.env("pg")
        base = ["pg_basebackup", "-h", "127.0.0.1", "-p", str(node.port), "-U", "postgres",
                "-Ft", "-X", "fetch", "-c", "fast"]

        def basebackup(name: str, *extra: str) -> None:
            node.run([*base, "-D", str(out / name), *extra], env, timeout=1800)

        timed("pg_basebackup -Ft, local disk", size, lambda: basebackup("plain"))
        timed("pg_basebackup -Ft -z (gzip), local disk", size, lambda: basebackup("gz", "-z"))
        shutil.rmtree(out / "plain")
        shutil.rmtree(out / "gz")

        # pgBackRest to a local posix repository: the rendered repo config, repo1 swapped.
        repo_env = node.env("repo")
        posix = (node.root / "conf" / "repo-pgbackrest.conf").read_text()
        lines = [line for line in posix.splitlines()
                 if not line.startswith(("repo1-s3", "repo1-storage", "repo1-type", "repo1-path"))]
        lines.insert(1, f"repo1-type=posix\nrepo1-path={node.root / 'posix-repo'}")
        (node.root / "conf" / "posix.conf").write_text("\n".join(lines) + "\n")
        own_tree(node.root)
        posix_env = {**repo_env, "PGBACKREST_CONFIG": str(node.root / "conf" / "posix.conf")}
        pgbr = ["pgbackrest", f"--stanza={STANZA}"]
        node.run([*pgbr, "stanza-create"], posix_env)
        for compress in ("none", "lz4"):
            for processes in (1, 2):
                timed(f"pgbackrest full, posix repo, {compress}, process-max {processes}", size,
                      lambda c=compress, p=processes: node.run(  # type: ignore[misc]
                          [*pgbr, "--type=full", f"--compress-type={c}", f"--process-max={p}",
                           "--no-archive-check", "backup"], posix_env, timeout=1800))

        # pgBackRest to S3 (moto behind nginx TLS): exactly the CronJob's command first.
        result = node.root / "result.json"
        def cronjob() -> None:
            done = node.backup("full", result, timeout=1800)
            if done.returncode != 0:
                raise RuntimeError(done.stderr)
        timed("pgbackrest full, S3 via TLS, CronJob command (lz4, pmax 2)", size, cronjob)
        print(f"  result: {result.read_text().strip()}", flush=True)  # noqa: T201
        timed("pgbackrest full, S3 via TLS, lz4, process-max 2 (backup only)", size,
              lambda: node.run([*pgbr, "--type=full", "backup"], repo_env, timeout=1800))
        timed("pgbackrest full, S3 via TLS, none, process-max 2", size,
              lambda: node.run([*pgbr, "--type=full", "--compress-type=none", "backup"],
                               repo_env, timeout=1800))
        timed("pgbackrest full, S3 via TLS, lz4, process-max 1", size,
              lambda: node.run([*pgbr, "--type=full", "--process-max=1", "backup"],
                               repo_env, timeout=1800))

        # Restore the latest S3 backup (lz4) into an empty directory, then start it.
        target = node.root / "restored"
        target.mkdir(mode=0o700)
        own_tree(target)
        # On a database host: the pods' config ("pg" role), pg1-path pointed at the new dir.
        timed("pgbackrest restore from S3 (latest, lz4, pmax 2)", size,
              lambda: node.run([*pgbr, f"--pg1-path={target}", "--type=immediate",
                                "--target-action=promote", "--process-max=2", "restore"],
                               node.env("pg"), timeout=1800))
        port = svc.free_port()
        with (target / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"\nport = {port}\narchive_mode = off\n")
        own_tree(target)
        timed("restored PostgreSQL: start + recovery to ready", size,
              lambda: node.start_pg(target, node.env("pg")))
        node.stop_pg(target)
    finally:
        node.stop()
        s3.stop()
        cleanup(node.root, s3.root)


if __name__ == "__main__":
    main()

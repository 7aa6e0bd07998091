"""`tcclog-operator run | render -f FILE | crd`.

`render` prints exactly the objects `run` would apply for a TccLog (like `helm template`),
with one deliberate difference: generated Secret values are redacted unless
--show-secrets is given. The operator never regenerates a value that already exists in
the cluster, so freshly generated values here would not be what the cluster holds anyway,
and a render output pasted into a review or a CI log must not leak credentials.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .models import KIND, TccLog
from .models.crd import CRDS, crd_yaml
from .render import RenderSettings, fill_secret_values, render, required_secrets
from .settings import OperatorSettings

REDACTED_NOTE = (
    "# Secret values are redacted (empty). The operator keeps the values already in the\n"
    "# cluster and generates only missing ones; --show-secrets prints freshly generated ones.\n"
)


def _load_tcclogs(path: str) -> list[dict[str, Any]]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    found = [d for d in docs if d.get("kind") == KIND]
    if not found:
        raise SystemExit(f"error: no {KIND} object in {path}")
    return found


def render_documents(
    body: dict[str, Any],
    *,
    namespace: str | None,
    uid: str | None,
    settings: RenderSettings,
    show_secrets: bool,
    prometheus_crds_present: bool = False,
) -> list[dict[str, Any]]:
    """Objects for one TccLog body, as `render` prints them."""
    metadata = dict(body.get("metadata") or {})
    metadata["namespace"] = metadata.get("namespace") or namespace or "default"
    if uid:
        metadata["uid"] = uid
    tcclog = TccLog.from_body({**body, "metadata": metadata})
    values = fill_secret_values(tcclog, existing={})
    objects = render(
        tcclog, settings, secret_values=values, prometheus_crds_present=prometheus_crds_present
    )
    if not show_secrets:
        generated = required_secrets(tcclog)
        for obj in objects:
            if obj["kind"] == "Secret" and obj["metadata"]["name"] in generated:
                obj["data"] = dict.fromkeys(obj["data"], "")
    return objects


def _cmd_render(args: argparse.Namespace) -> int:
    settings = OperatorSettings().render_settings()
    if args.image_repository:
        settings = RenderSettings(args.image_repository, settings.image_pull_policy)
    out: list[dict[str, Any]] = []
    for body in _load_tcclogs(args.filename):
        try:
            out += render_documents(
                body,
                namespace=args.namespace,
                uid=args.uid,
                settings=settings,
                show_secrets=args.show_secrets,
                prometheus_crds_present=args.prometheus_crds,
            )
        except ValidationError as error:
            name = (body.get("metadata") or {}).get("name", "?")
            sys.stderr.write(f"error: {KIND} {name!r} is invalid:\n")
            for item in error.errors():
                where = ".".join(str(p) for p in item["loc"])
                sys.stderr.write(f"  {where}: {item['msg']}\n")
            return 2
    if not args.show_secrets:
        sys.stdout.write(REDACTED_NOTE)
    sys.stdout.write(yaml.safe_dump_all(out, sort_keys=False, explicit_start=True))
    return 0


def _cmd_crd(args: argparse.Namespace) -> int:
    definition = next(d for d in CRDS if d.kind.lower() == args.kind.lower())
    sys.stdout.write(crd_yaml(definition))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    # kopf imports the kubernetes client whenever it is installed (as in tests), only to
    # offer its login; the operator logs in itself (connection.py), and ~8 MiB stay free.
    sys.modules.setdefault("kubernetes", None)  # type: ignore[arg-type]
    # Imported here: `render` and `crd` must work without kopf's side effects or a cluster.
    import kopf

    import tcclog_operator.handlers  # noqa: F401  (registers the kopf handlers)

    _fewer_malloc_arenas()
    settings = OperatorSettings()
    kopf.configure(debug=settings.debug, log_format=kopf.LogFormat[settings.log_format.upper()])
    kopf_settings = kopf.OperatorSettings()
    kopf_settings.peering.name = settings.peering_name
    kopf_settings.peering.priority = settings.peering_priority
    kopf_settings.peering.lifetime = settings.peering_lifetime_seconds
    # Peering when its CRDs are installed (deploy/), standalone otherwise (tests, kind demo);
    # passing peering_name to kopf.run would make it mandatory and pause without them.
    kopf_settings.peering.mandatory = False
    kopf.run(
        settings=kopf_settings,
        clusterwide=settings.clusterwide,
        namespaces=settings.namespaces,
        standalone=settings.standalone or None,
        liveness_endpoint=settings.liveness_endpoint,
        # handlers/startup.py picks these up instead of reading the environment again.
        memo=kopf.Memo(operator_settings=settings),
    )
    return 0


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before the reconcile threads start.

    glibc gives each busy thread an arena of its own (up to 8 per core); with 16 threads
    handing watch events and API answers around, each arena keeps its own freed memory
    (~10 MiB more RSS at 100 TccLogs, the same as MALLOC_ARENA_MAX=2). Python's
    allocator does not gain from more arenas: the GIL serialises it anyway.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc (e.g. musl): nothing to tune
    m_arena_max = -8  # from malloc.h
    libc.mallopt(m_arena_max, arenas)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tcclog-operator", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the operator (settings: TCCLOG_OPERATOR_*)")
    run.set_defaults(func=_cmd_run)

    rend = commands.add_parser("render", help="print the objects a TccLog becomes, as YAML")
    rend.add_argument("-f", "--filename", required=True, help="TccLog YAML file, or - for stdin")
    rend.add_argument("-n", "--namespace", help="namespace when the file has none")
    rend.add_argument("--uid", help="TccLog uid for ownerReferences (none: children unowned)")
    rend.add_argument("--show-secrets", action="store_true", help="print generated values")
    rend.add_argument("--image-repository", help="app image repository (default from settings)")
    rend.add_argument(
        "--prometheus-crds", action="store_true", help="render as if Prometheus CRDs exist"
    )
    rend.set_defaults(func=_cmd_render)

    crd = commands.add_parser("crd", help="print a CustomResourceDefinition (default TccLog)")
    crd.add_argument("--kind", default="TccLog", choices=[d.kind for d in CRDS],
                     type=lambda kind: next((d.kind for d in CRDS if d.kind.lower() ==
                                             kind.lower()), kind))
    crd.set_defaults(func=_cmd_crd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())

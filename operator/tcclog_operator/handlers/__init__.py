"""Kopf registration point: importing this package registers every handler."""

from . import backups, children, startup, tcclog  # noqa: F401 - imported for their decorators

"""`python -m tcclog_operator ...` is the same as `tcclog-operator ...`."""

from .cli import main

raise SystemExit(main())

from tcclog.cli import main

raise SystemExit(main())

"""`python -m dynapurls_ros` is the `dynapurls` command."""

from dynapurls_ros.cli import main

raise SystemExit(main())

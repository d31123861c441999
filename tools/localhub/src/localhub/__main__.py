"""`python -m localhub`."""

from localhub.cli import main

raise SystemExit(main())

"""``python -m verifier`` runs the same command line as the ``verifier`` script."""

from .cli import main

raise SystemExit(main())

"""``python -m ecgml`` runs the command line."""

import sys

from ecgml.cli.main import main

sys.exit(main())

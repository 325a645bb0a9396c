"""`python -m copier_python_service.fleet` runs the `cps-fleet` CLI."""

import sys

from copier_python_service.fleet.cli import main

sys.exit(main())

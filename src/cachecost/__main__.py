"""`python -m cachecost` is the `cachecost` command."""

import sys

from cachecost.cli import main

sys.exit(main())

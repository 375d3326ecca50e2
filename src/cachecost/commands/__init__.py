"""Sub-commands of the ``cachecost`` CLI: one module each (see :mod:`cachecost.cli`)."""

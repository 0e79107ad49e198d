"""``python -m refimpl`` runs the ``chargechain`` command line."""

from refimpl.cli import main

main()

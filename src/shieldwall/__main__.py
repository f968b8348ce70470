"""`python -m shieldwall` runs the command line."""

from shieldwall.cli.main import main

main()

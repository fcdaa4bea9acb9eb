"""Run the command-line interface: `python -m verifier`."""

from verifier.cli import main

main()

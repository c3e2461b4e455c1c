"""`python -m bench`: see bench/cli.py."""

from bench.cli import app

app(prog_name="python -m bench")

"""`python -m pipeline daily|status`."""

from pipeline.cli import app

app(prog_name="python -m pipeline")

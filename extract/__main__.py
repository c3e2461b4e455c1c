"""`python -m extract`: see extract/cli.py."""

from extract.cli import app

if __name__ == "__main__":
    app()

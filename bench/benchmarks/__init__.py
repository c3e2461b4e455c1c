"""One module per benchmark; each `run(ctx)` returns its figures (see bench/registry.py)."""

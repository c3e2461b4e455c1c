"""Benchmarks: the figures that say how fast and how good nba-props is, kept in the repo.

`python -m bench run` measures, `python -m bench compare` sets a run against the committed
results. Figures are printed and kept, never asserted (tests check behaviour, not speed).
"""

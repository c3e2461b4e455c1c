"""Extractors: one dlt source per upstream API (odds_api, balldontlie, espn).

Public entry points: `python -m extract` (extract/cli.py), `extract.runner.run_extract(config,
dates)`, `extract.config.ExtractConfig.from_env()`, and the sources `odds_api_source`,
`balldontlie_source`, `espn_source`. See extract/README.md.
"""

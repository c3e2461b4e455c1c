"""The sandbox's defaults, defined once: the league's seed and season, and the demo clock.

The default "now" is noon Eastern on a mid-season Thursday (2026-01-15), the demo day. The server
serves every season of SEASONS (start years); the last is the current one, DEFAULT_SEASON, from
which sandbox/history.py derives the earlier ones.
"""

from __future__ import annotations

from datetime import UTC, datetime

DEFAULT_SEED = 20251021
DEFAULT_SEASON = 2025
SEASONS = (2023, 2024, DEFAULT_SEASON)
DEFAULT_NOW = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)

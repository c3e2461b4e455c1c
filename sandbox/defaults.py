"""The sandbox's defaults, defined once: the league's seed and season, and the demo clock.

The default "now" is noon Eastern on a mid-season Thursday (2026-01-15), the demo day.
"""

from __future__ import annotations

from datetime import UTC, datetime

DEFAULT_SEED = 20251021
DEFAULT_SEASON = 2025
DEFAULT_NOW = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)

"""The 30 franchises with every source's real code for them.

These are facts about the outside world that the imitated APIs must reproduce exactly (the
Clippers are "Los Angeles Clippers" to the Odds API and "LA Clippers" to balldontlie and ESPN;
ESPN abbreviates New York "NY" and Utah "UTAH"; balldontlie ids run 1..30 alphabetically and
ESPN's ids are its own). seeds/team_codes.csv holds the same facts for dbt; a test proves the two
agree.
"""

from __future__ import annotations

import pandas as pd

# team_key, city, nickname, bdl_id, bdl_city, espn_id, espn_abbreviation, espn_location,
# conference, division, home time zone (drives local tip-off times).
_TEAMS: tuple[tuple[str, str, str, int, str, str, str, str, str, str, str], ...] = (
    ("ATL", "Atlanta", "Hawks", 1, "Atlanta", "1", "ATL", "Atlanta", "East", "Southeast",
     "America/New_York"),
    ("BOS", "Boston", "Celtics", 2, "Boston", "2", "BOS", "Boston", "East", "Atlantic",
     "America/New_York"),
    ("BKN", "Brooklyn", "Nets", 3, "Brooklyn", "17", "BKN", "Brooklyn", "East", "Atlantic",
     "America/New_York"),
    ("CHA", "Charlotte", "Hornets", 4, "Charlotte", "30", "CHA", "Charlotte", "East", "Southeast",
     "America/New_York"),
    ("CHI", "Chicago", "Bulls", 5, "Chicago", "4", "CHI", "Chicago", "East", "Central",
     "America/Chicago"),
    ("CLE", "Cleveland", "Cavaliers", 6, "Cleveland", "5", "CLE", "Cleveland", "East", "Central",
     "America/New_York"),
    ("DAL", "Dallas", "Mavericks", 7, "Dallas", "6", "DAL", "Dallas", "West", "Southwest",
     "America/Chicago"),
    ("DEN", "Denver", "Nuggets", 8, "Denver", "7", "DEN", "Denver", "West", "Northwest",
     "America/Denver"),
    ("DET", "Detroit", "Pistons", 9, "Detroit", "8", "DET", "Detroit", "East", "Central",
     "America/Detroit"),
    ("GSW", "Golden State", "Warriors", 10, "Golden State", "9", "GS", "Golden State", "West",
     "Pacific", "America/Los_Angeles"),
    ("HOU", "Houston", "Rockets", 11, "Houston", "10", "HOU", "Houston", "West", "Southwest",
     "America/Chicago"),
    ("IND", "Indiana", "Pacers", 12, "Indiana", "11", "IND", "Indiana", "East", "Central",
     "America/Indiana/Indianapolis"),
    ("LAC", "Los Angeles", "Clippers", 13, "LA", "12", "LAC", "LA", "West", "Pacific",
     "America/Los_Angeles"),
    ("LAL", "Los Angeles", "Lakers", 14, "Los Angeles", "13", "LAL", "Los Angeles", "West",
     "Pacific", "America/Los_Angeles"),
    ("MEM", "Memphis", "Grizzlies", 15, "Memphis", "29", "MEM", "Memphis", "West", "Southwest",
     "America/Chicago"),
    ("MIA", "Miami", "Heat", 16, "Miami", "14", "MIA", "Miami", "East", "Southeast",
     "America/New_York"),
    ("MIL", "Milwaukee", "Bucks", 17, "Milwaukee", "15", "MIL", "Milwaukee", "East", "Central",
     "America/Chicago"),
    ("MIN", "Minnesota", "Timberwolves", 18, "Minnesota", "16", "MIN", "Minnesota", "West",
     "Northwest", "America/Chicago"),
    ("NOP", "New Orleans", "Pelicans", 19, "New Orleans", "3", "NO", "New Orleans", "West",
     "Southwest", "America/Chicago"),
    ("NYK", "New York", "Knicks", 20, "New York", "18", "NY", "New York", "East", "Atlantic",
     "America/New_York"),
    ("OKC", "Oklahoma City", "Thunder", 21, "Oklahoma City", "25", "OKC", "Oklahoma City", "West",
     "Northwest", "America/Chicago"),
    ("ORL", "Orlando", "Magic", 22, "Orlando", "19", "ORL", "Orlando", "East", "Southeast",
     "America/New_York"),
    ("PHI", "Philadelphia", "76ers", 23, "Philadelphia", "20", "PHI", "Philadelphia", "East",
     "Atlantic", "America/New_York"),
    ("PHX", "Phoenix", "Suns", 24, "Phoenix", "21", "PHX", "Phoenix", "West", "Pacific",
     "America/Phoenix"),
    ("POR", "Portland", "Trail Blazers", 25, "Portland", "22", "POR", "Portland", "West",
     "Northwest", "America/Los_Angeles"),
    ("SAC", "Sacramento", "Kings", 26, "Sacramento", "23", "SAC", "Sacramento", "West", "Pacific",
     "America/Los_Angeles"),
    ("SAS", "San Antonio", "Spurs", 27, "San Antonio", "24", "SA", "San Antonio", "West",
     "Southwest", "America/Chicago"),
    ("TOR", "Toronto", "Raptors", 28, "Toronto", "28", "TOR", "Toronto", "East", "Atlantic",
     "America/Toronto"),
    ("UTA", "Utah", "Jazz", 29, "Utah", "26", "UTAH", "Utah", "West", "Northwest",
     "America/Denver"),
    ("WAS", "Washington", "Wizards", 30, "Washington", "27", "WSH", "Washington", "East",
     "Southeast", "America/New_York"),
)  # fmt: skip

TEAM_KEYS: tuple[str, ...] = tuple(row[0] for row in _TEAMS)


def team_table() -> pd.DataFrame:
    """Build the `League.teams` frame, one row per franchise in balldontlie id order."""
    rows = []
    for key, city, nick, bdl_id, bdl_city, espn_id, espn_abbr, espn_loc, conf, div, tz in _TEAMS:
        rows.append(
            {
                "team_key": key,
                # The Odds API always spells the city out ("Los Angeles Clippers").
                "full_name": f"{city} {nick}",
                "city": city,
                "nickname": nick,
                "conference": conf,
                "division": div,
                "bdl_id": bdl_id,
                "bdl_abbreviation": key,
                "bdl_city": bdl_city,
                "bdl_name": nick,
                "bdl_full_name": f"{bdl_city} {nick}",
                "espn_id": espn_id,
                "espn_abbreviation": espn_abbr,
                "espn_display_name": f"{espn_loc} {nick}",
                "espn_location": espn_loc,
                "espn_name": nick,
                "time_zone": tz,
            }
        )
    frame = pd.DataFrame(rows)
    frame["bdl_id"] = frame["bdl_id"].astype("int64")
    return frame

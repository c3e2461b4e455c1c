-- How each source names the same franchise: the first thing to check when a join drops a team.
select
    team_key,
    odds_api_team_name,
    bdl_team_name,
    bdl_abbreviation,
    espn_abbreviation,
    espn_team_id
from {{ ref('dim_teams') }}
where
    bdl_abbreviation != espn_abbreviation
    or odds_api_team_name != bdl_team_name
order by team_key

-- One row per player per game: the box score, whether he played, and which source it came from.
-- balldontlie first; ESPN where balldontlie has no box score for the game (recorded in
-- stat_source, never silent). A rebuild takes a later stat correction into every row.
with

games as (

    select * from {{ ref('dim_games') }}

),

bdl_stats as (

    select * from {{ ref('stg_balldontlie__stats') }}

),

espn_box as (

    select * from {{ ref('stg_espn__player_box_scores') }}

),

crosswalk as (

    select * from {{ ref('int_player_crosswalk') }}

),

espn_matched as (

    select
        espn_box.*,
        games.game_id,
        crosswalk.player_id
    from espn_box
    inner join games on espn_box.espn_event_id = games.espn_event_id
    inner join crosswalk
        on crosswalk.source = 'espn' and espn_box.espn_player_id = crosswalk.source_player_ref

),

from_bdl as (

    select
        games.game_id,
        bdl_stats.bdl_player_id as player_id,
        bdl_stats.team_key,
        'balldontlie' as stat_source,
        bdl_stats.did_not_play,
        espn_matched.is_starter,
        bdl_stats.minutes_played,
        bdl_stats.points,
        bdl_stats.rebounds,
        bdl_stats.assists,
        bdl_stats.threes_made,
        bdl_stats.threes_attempted,
        bdl_stats.field_goals_made,
        bdl_stats.field_goals_attempted,
        bdl_stats.free_throws_made,
        bdl_stats.free_throws_attempted,
        bdl_stats.offensive_rebounds,
        bdl_stats.defensive_rebounds,
        bdl_stats.steals,
        bdl_stats.blocks,
        bdl_stats.turnovers,
        bdl_stats.fouls,
        bdl_stats.loaded_at
    from bdl_stats
    inner join games on bdl_stats.bdl_game_id = games.bdl_game_id
    left outer join espn_matched
        on games.game_id = espn_matched.game_id and bdl_stats.bdl_player_id = espn_matched.player_id

),

from_espn as (

    select
        espn_matched.game_id,
        espn_matched.player_id,
        espn_matched.team_key,
        'espn' as stat_source,
        espn_matched.did_not_play,
        espn_matched.is_starter,
        espn_matched.minutes_played,
        espn_matched.points,
        espn_matched.rebounds,
        espn_matched.assists,
        espn_matched.threes_made,
        espn_matched.threes_attempted,
        espn_matched.field_goals_made,
        espn_matched.field_goals_attempted,
        espn_matched.free_throws_made,
        espn_matched.free_throws_attempted,
        espn_matched.offensive_rebounds,
        espn_matched.defensive_rebounds,
        espn_matched.steals,
        espn_matched.blocks,
        espn_matched.turnovers,
        espn_matched.fouls,
        espn_matched.loaded_at
    from espn_matched
    where not exists (
        select 1 from from_bdl
        where from_bdl.game_id = espn_matched.game_id
    )

),

unioned as (

    select * from from_bdl
    union all
    select * from from_espn

),

final as (

    select
        unioned.game_id,
        unioned.player_id,
        games.game_date,
        games.season,
        unioned.team_key,
        games.tipoff_at,
        unioned.stat_source,
        unioned.did_not_play,
        unioned.is_starter,
        unioned.points,
        unioned.rebounds,
        unioned.assists,
        unioned.threes_made,
        unioned.threes_attempted,
        unioned.field_goals_made,
        unioned.field_goals_attempted,
        unioned.free_throws_made,
        unioned.free_throws_attempted,
        unioned.offensive_rebounds,
        unioned.defensive_rebounds,
        unioned.steals,
        unioned.blocks,
        unioned.turnovers,
        unioned.fouls,
        unioned.loaded_at,
        case when unioned.team_key = games.home_team_key then games.away_team_key else games.home_team_key end
            as opponent_team_key,
        unioned.team_key = games.home_team_key as is_home,
        case when unioned.did_not_play then null else unioned.minutes_played end as minutes_played
    from unioned
    inner join games on unioned.game_id = games.game_id
    -- a player listed twice for one game (a corrected row under a new stat id) keeps the latest
    qualify row_number() over (
        partition by unioned.game_id, unioned.player_id
        order by unioned.loaded_at desc, unioned.minutes_played desc
    ) = 1

)

select * from final

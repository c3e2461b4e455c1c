-- Who could take the floor in each game, as balldontlie knows the player: the box score's players
-- once the game has one, else the two teams' current rosters (an upcoming game). The candidates
-- every other source's names are matched against.
with

games as (

    select * from {{ ref('dim_games') }}

),

stats as (

    select * from {{ ref('stg_balldontlie__stats') }}

),

players as (

    select * from {{ ref('stg_balldontlie__players') }}

),

from_box_scores as (

    select
        games.game_id,
        stats.team_key,
        stats.bdl_player_id,
        stats.player_name,
        stats.player_name_key,
        'box_score' as roster_source
    from games
    inner join stats on games.bdl_game_id = stats.bdl_game_id

),

games_without_box as (

    select games.*
    from games
    where not exists (
        select 1 from from_box_scores
        where from_box_scores.game_id = games.game_id
    )

),

from_current_rosters as (

    select
        games_without_box.game_id,
        players.current_team_key as team_key,
        players.bdl_player_id,
        players.player_name,
        players.player_name_key,
        'current_roster' as roster_source
    from games_without_box
    inner join players
        on players.current_team_key in (games_without_box.home_team_key, games_without_box.away_team_key)

),

final as (

    select * from from_box_scores
    union all
    select * from from_current_rosters

)

select * from final

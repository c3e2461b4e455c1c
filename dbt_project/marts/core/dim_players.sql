-- One row per player (player_id is balldontlie's id): his name, name key, position, current team,
-- the id ESPN gives him and the name the odds feed uses, and his first and last game.
with

crosswalk as (

    select * from {{ ref('int_player_crosswalk') }}

),

players as (

    select * from {{ ref('stg_balldontlie__players') }}

),

player_games as (

    select * from {{ ref('fct_player_games') }}

),

people as (

    select
        player_id,
        player_name,
        player_name_key
    from crosswalk
    where source = 'balldontlie'

),

espn_ids as (

    select
        player_id,
        min(source_player_ref) as espn_player_id
    from crosswalk
    where source = 'espn'
    group by player_id

),

odds_names as (

    select
        player_id,
        min(source_player_ref) as odds_api_player_name,
        count(*) as n_odds_api_names
    from crosswalk
    where source = 'odds_api'
    group by player_id

),

careers as (

    select
        player_id,
        min(game_date) as first_game_date,
        max(game_date) as last_game_date,
        count(case when not did_not_play then 1 end) as games_played
    from player_games
    group by player_id

),

final as (

    select
        people.player_id,
        people.player_name,
        people.player_name_key,
        players.position,
        players.current_team_key,
        espn_ids.espn_player_id,
        odds_names.odds_api_player_name,
        careers.first_game_date,
        careers.last_game_date,
        coalesce(odds_names.n_odds_api_names, 0) as n_odds_api_names,
        coalesce(careers.games_played, 0) as games_played
    from people
    left outer join players on people.player_id = players.bdl_player_id
    left outer join espn_ids on people.player_id = espn_ids.player_id
    left outer join odds_names on people.player_id = odds_names.player_id
    left outer join careers on people.player_id = careers.player_id

)

select * from final

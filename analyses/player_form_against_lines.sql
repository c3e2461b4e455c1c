-- How has a player done against his pick-time lines? One row per game: the line, what he did, the
-- margin, and his 10-game form coming in. Change the name and market to ask about someone else.
{% set player_name = 'Chima Eze' %}
{% set market = 'points' %}

with

players as (

    select * from {{ ref('dim_players') }}

),

features as (

    select * from {{ ref('fct_player_prop_features') }}

),

player_games as (

    select * from {{ ref('fct_player_games') }}

),

final as (

    select
        features.game_date,
        features.opponent_team_key,
        features.is_home,
        features.stat_avg_10 as form_avg_10,
        features.pick_line,
        features.pick_no_vig_over_probability,
        player_games.points as actual_points,
        player_games.rebounds as actual_rebounds,
        player_games.assists as actual_assists,
        player_games.threes_made as actual_threes,
        case features.market
            when 'points' then player_games.points
            when 'rebounds' then player_games.rebounds
            when 'assists' then player_games.assists
            when 'threes' then player_games.threes_made
        end - features.pick_line as margin_over_line
    from features
    inner join players on features.player_id = players.player_id
    left outer join player_games
        on features.player_id = player_games.player_id and features.game_id = player_games.game_id
    where
        players.player_name = '{{ player_name }}'
        and features.market = '{{ market }}'
        and features.pick_line is not null

)

select * from final
order by game_date

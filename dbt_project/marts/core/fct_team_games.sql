-- One row per team per game: points for and against, possessions, pace and ratings, from the
-- players' box scores (possessions: FGA - OREB + TOV + 0.44 x FTA, averaged over the two sides).
with

player_games as (

    select * from {{ ref('fct_player_games') }}

),

games as (

    select * from {{ ref('dim_games') }}

),

team_totals as (

    select
        game_id,
        team_key,
        max(opponent_team_key) as opponent_team_key,
        max(case when is_home then 1 else 0 end) = 1 as is_home,
        sum(points) as points,
        sum(field_goals_attempted) as field_goals_attempted,
        sum(free_throws_attempted) as free_throws_attempted,
        sum(offensive_rebounds) as offensive_rebounds,
        sum(turnovers) as turnovers,
        sum(rebounds) as rebounds,
        sum(assists) as assists,
        sum(threes_made) as threes_made,
        round(sum(minutes_played), 6) as minutes_played,  -- doubles summed in no fixed order
        sum(field_goals_attempted) - sum(offensive_rebounds) + sum(turnovers)
        + 0.44 * sum(free_throws_attempted) as possessions
    from player_games
    group by game_id, team_key

),

final as (

    select
        team_totals.game_id,
        team_totals.team_key,
        games.game_date,
        games.season,
        team_totals.opponent_team_key,
        team_totals.is_home,
        team_totals.points as points_for,
        opponent.points as points_against,
        team_totals.rebounds,
        team_totals.assists,
        team_totals.threes_made,
        team_totals.minutes_played,
        (team_totals.possessions + opponent.possessions) / 2 as possessions,
        -- possessions per 48 minutes: team minutes over five players on the floor
        {{ safe_divide('(team_totals.possessions + opponent.possessions) / 2 * 48',
                       'team_totals.minutes_played / 5') }} as pace,
        {{ safe_divide('100 * team_totals.points', '(team_totals.possessions + opponent.possessions) / 2') }}
            as offensive_rating,
        {{ safe_divide('100 * opponent.points', '(team_totals.possessions + opponent.possessions) / 2') }}
            as defensive_rating
    from team_totals
    inner join team_totals as opponent
        on team_totals.game_id = opponent.game_id and team_totals.team_key != opponent.team_key
    inner join games on team_totals.game_id = games.game_id

)

select * from final

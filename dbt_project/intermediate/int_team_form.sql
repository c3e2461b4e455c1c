-- A team's form after each game: pace, ratings and what it allowed, over its last 10 games and the
-- season to date, counting this game. Read as of the team's last game before pick time.
with

team_games as (

    select * from {{ ref('fct_team_games') }}

),

games as (

    select * from {{ ref('dim_games') }}

),

with_allowed as (

    select
        team_games.game_id,
        team_games.team_key,
        team_games.game_date,
        team_games.season,
        games.tipoff_at,
        team_games.pace,
        team_games.offensive_rating,
        team_games.defensive_rating,
        team_games.points_against,
        opponent.rebounds as rebounds_against,
        opponent.assists as assists_against,
        opponent.threes_made as threes_against
    from team_games
    inner join team_games as opponent
        on team_games.game_id = opponent.game_id and team_games.team_key = opponent.opponent_team_key
    inner join games on team_games.game_id = games.game_id

),

final as (

    select
        game_id,
        team_key,
        game_date,
        season,
        tipoff_at,
        {% for stat in ['pace', 'offensive_rating', 'defensive_rating', 'points_against',
                        'rebounds_against', 'assists_against', 'threes_against'] %}
            avg({{ stat }}) over (
                partition by team_key order by tipoff_at rows between 9 preceding and current row
            ) as {{ stat }}_avg_10,
        {% endfor %}
        count(*) over (
            partition by team_key, season order by tipoff_at rows between unbounded preceding and current row
        ) as season_games
    from with_allowed

)

select * from final

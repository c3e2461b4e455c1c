-- (the windows follow the keys in the order the macro loop writes them)
-- A player's form after each game he played: rolling means over his last 5, 10 and 20 games,
-- the spread over 10, and season to date, counting this game. The feature store reads the row of
-- his last game before pick time, so a game never sees itself or anything later.
{% set stats = ['points', 'rebounds', 'assists', 'threes_made', 'minutes_played',
                'field_goals_attempted', 'threes_attempted', 'free_throws_attempted', 'usage_proxy'] %}

with

player_games as (

    select * from {{ ref('fct_player_games') }}

),

played as (

    select
        player_id,
        game_id,
        game_date,
        season,
        tipoff_at,
        team_key,
        points,
        rebounds,
        assists,
        threes_made,
        minutes_played,
        field_goals_attempted,
        threes_attempted,
        free_throws_attempted,
        loaded_at,
        -- shots and turnovers he used: a box-score usage proxy
        field_goals_attempted + 0.44 * free_throws_attempted + turnovers as usage_proxy
    from player_games
    where not did_not_play

),

final as (

    select
        player_id,
        game_id,
        game_date,
        season,
        tipoff_at,
        team_key,
        {% for stat in stats %}
            {%- for n in [5, 10, 20] %}
                avg({{ stat }}) over (
                    partition by player_id
                    order by tipoff_at rows between {{ n - 1 }} preceding and current row
                ) as {{ stat }}_avg_{{ n }},
            {%- endfor %}
            stddev_samp({{ stat }}) over (
                partition by player_id order by tipoff_at rows between 9 preceding and current row
            ) as {{ stat }}_std_10,
            avg({{ stat }}) over (
                partition by player_id, season
                order by tipoff_at rows between unbounded preceding and current row
            ) as {{ stat }}_season_avg,
        {% endfor %}
        count(*) over (
            partition by player_id, season order by tipoff_at rows between unbounded preceding and current row
        ) as season_games_played,
        count(*) over (
            partition by player_id order by tipoff_at rows between 19 preceding and current row
        ) as games_in_window_20
    from played

)

select * from final

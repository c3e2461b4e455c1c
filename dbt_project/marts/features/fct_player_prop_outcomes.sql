-- The label the models train on and the outcome picks are graded against: one row per feature-store
-- row whose game is final. did_play is false when he sat (a did-not-play row) or is missing from
-- the box score; then actual_value is NULL, never a zero a model would learn from.
{% set float_type = 'float64' if target.type == 'bigquery' else 'double' %}
{% set markets = {
    'points': 'points', 'rebounds': 'rebounds', 'assists': 'assists', 'threes': 'threes_made'
} %}

with

features as (

    select * from {{ ref('fct_player_prop_features') }}

),

games as (

    select * from {{ ref('dim_games') }}

),

player_games as (

    select * from {{ ref('fct_player_games') }}

),

final_rows as (

    select
        features.player_id,
        features.game_id,
        features.market,
        features.game_date
    from features
    inner join games on features.game_id = games.game_id
    where games.is_final

),

joined as (

    select
        final_rows.player_id,
        final_rows.game_id,
        final_rows.market,
        final_rows.game_date,
        coalesce(not player_games.did_not_play, false) as did_play,
        player_games.minutes_played,
        case final_rows.market
            {%- for market, stat in markets.items() %}
                when '{{ market }}' then player_games.{{ stat }}
            {%- endfor %}
        end as stat_value
    from final_rows
    left outer join player_games
        on final_rows.game_id = player_games.game_id and final_rows.player_id = player_games.player_id

),

final as (

    select
        player_id,
        game_id,
        market,
        game_date,
        did_play,
        case when did_play then {{ dbt.cast('minutes_played', float_type) }} end as minutes_played,
        case when did_play then {{ dbt.cast('stat_value', float_type) }} end as actual_value
    from joined

)

select * from final

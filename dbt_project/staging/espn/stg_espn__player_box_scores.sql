-- One row per athlete per ESPN box score: every stat string typed, made-attempted pairs split,
-- plus-minus signed, minutes parsed; did-not-play as ESPN says it (`didNotPlay`).
with

source as (

    select * from {{ source('raw_espn', 'player_box_scores') }}

),

teams as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        source.event_id as espn_event_id,
        source.athlete__id as espn_player_id,
        teams.team_key,
        source.athlete__display_name as player_name,
        {{ name_key('source.athlete__display_name') }} as player_name_key,
        coalesce(source.starter, false) as is_starter,
        coalesce(source.did_not_play, false) as did_not_play,
        source.stats__minutes as minutes_raw,
        {{ minutes_played('source.stats__minutes') }} as minutes_played,
        {{ dbt.safe_cast('source.stats__points', dbt.type_int()) }} as points,
        {{ dbt.safe_cast('source.stats__rebounds', dbt.type_int()) }} as rebounds,
        {{ dbt.safe_cast('source.stats__assists', dbt.type_int()) }} as assists,
        {{ made_attempted(
            'source.stats__three_point_field_goals_made_three_point_field_goals_attempted', 1
        ) }}
            as threes_made,
        {{ made_attempted(
            'source.stats__three_point_field_goals_made_three_point_field_goals_attempted', 2
        ) }}
            as threes_attempted,
        {{ made_attempted('source.stats__field_goals_made_field_goals_attempted', 1) }}
            as field_goals_made,
        {{ made_attempted('source.stats__field_goals_made_field_goals_attempted', 2) }}
            as field_goals_attempted,
        {{ made_attempted('source.stats__free_throws_made_free_throws_attempted', 1) }}
            as free_throws_made,
        {{ made_attempted('source.stats__free_throws_made_free_throws_attempted', 2) }}
            as free_throws_attempted,
        {{ dbt.safe_cast('source.stats__offensive_rebounds', dbt.type_int()) }} as offensive_rebounds,
        {{ dbt.safe_cast('source.stats__defensive_rebounds', dbt.type_int()) }} as defensive_rebounds,
        {{ dbt.safe_cast('source.stats__steals', dbt.type_int()) }} as steals,
        {{ dbt.safe_cast('source.stats__blocks', dbt.type_int()) }} as blocks,
        {{ dbt.safe_cast('source.stats__turnovers', dbt.type_int()) }} as turnovers,
        {{ dbt.safe_cast('source.stats__fouls', dbt.type_int()) }} as fouls,
        -- "+23", "-11", "0"
        {{ dbt.safe_cast("replace(source.stats__plus_minus, '+', '')", dbt.type_int()) }} as plus_minus,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source
    left outer join teams on source.team__id = teams.espn_id

)

select * from final

-- One row per ESPN scoreboard event: tip-off in UTC, the league date, its state.
with

source as (

    select * from {{ source('raw_espn', 'events') }}

),

final as (

    select
        source.id as espn_event_id,
        {{ as_utc('coalesce(source.competition__date, source.date)') }} as tipoff_at,
        {{ league_date(as_utc('coalesce(source.competition__date, source.date)')) }} as game_date,
        source.short_name,
        -- ESPN's season year is the season's end year; the house uses the start year
        source.season__year - 1 as season,
        source.status__type__state as game_state,
        coalesce(source.status__type__completed, false) as is_final,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source

)

select * from final

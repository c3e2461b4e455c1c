-- (source, comment and the like are the house column names)
-- One row per athlete per ESPN injury-report snapshot: status normalised, team mapped, reported and
-- read times in UTC, his name key (an injured player may have no box score to match an id on).
with

source as (

    select * from {{ source('raw_injuries', 'espn_injuries') }}

),

teams as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        {{ as_utc('source.snapshot_at') }} as snapshot_at,
        source.athlete__id as espn_player_id,
        teams.team_key,
        source.athlete__display_name as player_name,
        {{ name_key('source.athlete__display_name') }} as player_name_key,
        -- "Out", "Doubtful", "Questionable", "Probable", "Day-To-Day" -> out, ..., day-to-day
        lower(trim(source.status)) as injury_status,
        {{ as_utc('source.date') }} as reported_at,
        source.details__type as injury_type,
        source.details__detail as injury_detail,
        source.details__return_date as expected_return_date,
        source.short_comment as comment,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source
    left outer join teams on source.team__id = teams.espn_id

)

select * from final

-- One row per balldontlie game: teams mapped to the house key, tip-off in UTC, the league date.
with

source as (

    select * from {{ source('raw_balldontlie', 'games') }}

),

teams as (

    select * from {{ ref('team_codes') }}

),

renamed as (

    select
        source.id as bdl_game_id,
        {{ as_utc('source.datetime') }} as tipoff_at,
        -- balldontlie's own `date` is the local calendar date; kept to check against ours
        source.date as bdl_game_date,
        source.season,
        source.status as game_status,
        source.postseason as is_postseason,
        source.home_team__id as bdl_home_team_id,
        source.visitor_team__id as bdl_away_team_id,
        source.home_team_score as home_score,
        source.visitor_team_score as away_score,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source

),

final as (

    select
        renamed.bdl_game_id,
        {{ league_date('renamed.tipoff_at') }} as game_date,
        renamed.tipoff_at,
        renamed.bdl_game_date,
        renamed.season,
        home.team_key as home_team_key,
        away.team_key as away_team_key,
        renamed.game_status,
        renamed.is_postseason,
        renamed.home_score,
        renamed.away_score,
        renamed.loaded_at,
        renamed.game_status = 'Final' as is_final
    from renamed
    left outer join teams as home on renamed.bdl_home_team_id = home.bdl_id
    left outer join teams as away on renamed.bdl_away_team_id = away.bdl_id

)

select * from final

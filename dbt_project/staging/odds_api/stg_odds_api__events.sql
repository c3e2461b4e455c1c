-- One row per Odds API event: tip-off (commence_time) in UTC, the league date, both teams' house keys.
with

source as (

    select * from {{ source('raw_odds_api', 'events') }}

),

-- one import per side rather than one shared CTE: DuckDB materializes a CTE read twice, and a
-- materialized CTE stops it pruning unused columns, so every query of this view would pay for all
-- of them
home_codes as (

    select * from {{ ref('team_codes') }}

),

away_codes as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        source.id as odds_event_id,
        source.sport_key,
        -- commence_time can move by seconds between listings: the latest listing's value
        {{ as_utc('source.commence_time') }} as tipoff_at,
        {{ league_date(as_utc('source.commence_time')) }} as game_date,
        source.home_team as home_team_name,
        source.away_team as away_team_name,
        home_codes.team_key as home_team_key,
        away_codes.team_key as away_team_key,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source
    left outer join home_codes on source.home_team = home_codes.odds_api_name
    left outer join away_codes on source.away_team = away_codes.odds_api_name

)

select * from final

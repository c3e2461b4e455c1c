{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['odds_event_id', 'bookmaker_key', 'market', 'outcome_name', 'snapshot_at'],
        on_schema_change='fail',
    )
}}
-- One row per featured-market outcome (h2h, spreads, totals) per bookmaker per snapshot, in decimal odds.
-- Incremental because the raw table grows by every snapshot of the season and is insert-only: a run
-- stages the loads (dlt load ids) it has not staged yet, whenever they arrived and whatever dates
-- they hold. Staged rows keep the team_codes they were staged with: after changing that seed, run
-- `dbt build --full-refresh` (the lines built on them keep them too).
with

{% if is_incremental() %}
    -- the loads not staged yet: converted once per load, not once per row
    new_loads as (

        select _dlt_load_id
        from {{ source('raw_odds_api', 'game_lines') }}
        group by _dlt_load_id
        having
            {{ epoch_seconds_to_timestamp('_dlt_load_id') }}
            not in (select staged.loaded_at from {{ this }} as staged)

    ),
{% endif %}

source as (

    select * from {{ source('raw_odds_api', 'game_lines') }}
    {% if is_incremental() %}
        where _dlt_load_id in (select new_loads._dlt_load_id from new_loads)
    {% endif %}

),

-- one import per side rather than one shared CTE: DuckDB materializes a CTE read twice, and a
-- materialized CTE stops it pruning unused columns, so every query would pay for all of them
home_codes as (

    select * from {{ ref('team_codes') }}

),

away_codes as (

    select * from {{ ref('team_codes') }}

),

outcome_codes as (

    select * from {{ ref('team_codes') }}

),

-- no deduplication: extract/ merges this table insert-only on exactly this grain, so the raw
-- cannot repeat a row (the grain test below would say so if it ever did)
renamed as (

    select
        event__id as odds_event_id,
        {{ as_utc('event__commence_time') }} as commence_at,
        {{ league_date(as_utc('event__commence_time')) }} as game_date,
        event__home_team as home_team_name,
        event__away_team as away_team_name,
        bookmaker__key as bookmaker_key,
        bookmaker__title as bookmaker_title,
        market__key as market,
        outcome__name as outcome_name,
        -- both arrive typed double (the source contract); extract/ always asks for oddsFormat=decimal
        outcome__point as line,
        outcome__price as decimal_odds,
        {{ as_utc('snapshot_at') }} as snapshot_at,
        snapshot_kind,
        coalesce(is_in_game, false) as is_in_game,
        {{ as_utc('coalesce(market__last_update, bookmaker__last_update)') }} as book_updated_at,
        {{ epoch_seconds_to_timestamp('_dlt_load_id') }} as loaded_at
    from source

),

final as (

    select
        renamed.odds_event_id,
        renamed.commence_at,
        renamed.game_date,
        home_codes.team_key as home_team_key,
        away_codes.team_key as away_team_key,
        renamed.bookmaker_key,
        renamed.bookmaker_title,
        renamed.market,
        renamed.outcome_name,
        -- h2h and spreads name a team, totals say over or under
        case
            when renamed.outcome_name = renamed.home_team_name then 'home'
            when renamed.outcome_name = renamed.away_team_name then 'away'
            else lower(renamed.outcome_name)
        end as side,
        outcome_codes.team_key as outcome_team_key,
        renamed.line,
        renamed.decimal_odds,
        {{ safe_divide('1', 'renamed.decimal_odds') }} as implied_probability,
        renamed.snapshot_at,
        renamed.snapshot_kind,
        renamed.is_in_game,
        -- a snapshot taken at or after tip-off prices the game in play
        not renamed.is_in_game and renamed.snapshot_at < renamed.commence_at as is_pre_game,
        renamed.book_updated_at,
        renamed.loaded_at
    from renamed
    left outer join home_codes on renamed.home_team_name = home_codes.odds_api_name
    left outer join away_codes on renamed.away_team_name = away_codes.odds_api_name
    left outer join outcome_codes on renamed.outcome_name = outcome_codes.odds_api_name

)

select * from final

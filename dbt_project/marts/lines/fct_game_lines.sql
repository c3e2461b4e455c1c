{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['odds_event_id', 'bookmaker_key', 'market', 'outcome_name', 'snapshot_at'],
        on_schema_change='fail',
    )
}}
-- One row per (event, bookmaker, market, outcome, snapshot) of the featured markets (h2h, spreads,
-- totals): the line, the price, and the no-vig probability within the book's market at that snapshot.
-- Incremental because it grows with every snapshot of the season: a run recomputes every event with
-- snapshots loaded since the last run (whatever its date) and every event whose game (dim_games)
-- now reconciles otherwise.
with

staged_lines as (

    select * from {{ ref('stg_odds_api__game_lines') }}

),

games as (

    select * from {{ ref('dim_games') }}

),

{% if is_incremental() %}
    -- events with snapshots loaded after the last run's newest
    loaded_events as (

        select distinct odds_event_id
        from staged_lines
        where
            loaded_at > (
                select coalesce(max(stored.loaded_at), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
                from {{ this }} as stored
            )

    ),

    stored_events as (

        select distinct
            odds_event_id,
            game_id,
            game_date,
            home_team_key,
            away_team_key,
            tipoff_at
        from {{ this }}

    ),

    -- events whose game appeared, vanished or moved since they were computed
    regamed_events as (

        select stored_events.odds_event_id
        from stored_events
        left outer join games on stored_events.odds_event_id = games.odds_event_id
        where
            stored_events.game_id is distinct from games.game_id
            or (
                games.game_id is not null
                and (
                    stored_events.game_date is distinct from games.game_date
                    or stored_events.home_team_key is distinct from games.home_team_key
                    or stored_events.away_team_key is distinct from games.away_team_key
                    or stored_events.tipoff_at is distinct from games.tipoff_at
                )
            )

    ),

    changed_events as (

        select loaded_events.odds_event_id from loaded_events
        union distinct
        select regamed_events.odds_event_id from regamed_events

    ),
{% endif %}

game_lines as (

    select * from staged_lines
    {% if is_incremental() %}
        where odds_event_id in (select changed_events.odds_event_id from changed_events)
    {% endif %}

),

-- the book's whole market at the snapshot: its overround is the sum of its outcomes' implied
-- probabilities; a market missing an outcome cannot be de-vigged
markets as (

    select
        *,
        sum(implied_probability) over (
            partition by odds_event_id, bookmaker_key, market, snapshot_at
        ) as market_implied_probability,
        count(*) over (partition by odds_event_id, bookmaker_key, market, snapshot_at) as n_outcomes
    from game_lines

),

joined as (

    select
        markets.odds_event_id,
        games.game_id,
        markets.bookmaker_key,
        markets.market,
        markets.outcome_name,
        markets.side,
        markets.outcome_team_key,
        markets.snapshot_at,
        markets.line,
        markets.decimal_odds,
        markets.implied_probability,
        markets.loaded_at,
        coalesce(games.game_date, markets.game_date) as game_date,
        coalesce(games.home_team_key, markets.home_team_key) as home_team_key,
        coalesce(games.away_team_key, markets.away_team_key) as away_team_key,
        coalesce(games.tipoff_at, markets.commence_at) as tipoff_at,
        markets.n_outcomes = 2 as has_both_sides,
        case when markets.n_outcomes = 2 then markets.market_implied_probability end as overround,
        case
            when markets.n_outcomes = 2 then markets.implied_probability / markets.market_implied_probability
        end as no_vig_probability,
        markets.is_pre_game
        and markets.snapshot_at < coalesce(games.tipoff_at, markets.commence_at) as is_pre_game
    from markets
    left outer join games on markets.odds_event_id = games.odds_event_id

),

final as (

    select
        odds_event_id,
        game_id,
        game_date,
        home_team_key,
        away_team_key,
        tipoff_at,
        bookmaker_key,
        market,
        outcome_name,
        side,
        outcome_team_key,
        snapshot_at,
        line,
        decimal_odds,
        implied_probability,
        has_both_sides,
        overround,
        no_vig_probability,
        is_pre_game,
        loaded_at
    from joined

)

select * from final

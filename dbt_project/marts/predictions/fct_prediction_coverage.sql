-- One row per (game_date, system): of the player-market rows the feature store had a pick-time
-- line for, the player not ruled out, how many the system predicted, and why it skipped the rest.
-- Lines offered come from the feature store, not from the predictions table, so a row the scorer
-- never wrote counts against coverage (lines_not_scored) instead of vanishing.

with

predictions as (

    select * from {{ ref('stg_models_ml__predictions') }}

),

features as (

    select * from {{ ref('fct_player_prop_features') }}

),

offered as (

    select
        game_date,
        game_id,
        player_id,
        market
    from features
    -- a player ruled out at pick time is no bet to make (books void his props): not a line to cover
    where pick_line is not null and lower(player_status) != 'out'

),

runs as (

    select distinct
        game_date,
        system
    from predictions

),

offered_by_system as (

    select
        runs.game_date,
        runs.system,
        offered.game_id,
        offered.player_id,
        offered.market
    from runs
    inner join offered on runs.game_date = offered.game_date

),

offered_outcomes as (

    select
        offered_by_system.game_date,
        offered_by_system.system,
        count(*) as lines_offered,
        count(
            case when predictions.player_id is not null and predictions.skip_reason is null then 1 end
        ) as predictions_made,
        count(case when predictions.player_id is null then 1 end) as lines_not_scored
    from offered_by_system
    left outer join predictions
        on
            offered_by_system.game_date = predictions.game_date
            and offered_by_system.system = predictions.system
            and offered_by_system.game_id = predictions.game_id
            and offered_by_system.player_id = predictions.player_id
            and offered_by_system.market = predictions.market
    group by offered_by_system.game_date, offered_by_system.system

),

skips as (

    select
        game_date,
        system,
        count(*) as n_rows,
        count(case when skip_reason is null then 1 end) as n_predicted,
        count(case when recommendation in ('OVER', 'UNDER') then 1 end) as n_picks,
        count(case when skip_reason = 'no_line' then 1 end) as skipped_no_line,
        count(case when skip_reason = 'player_out' then 1 end) as skipped_player_out,
        count(case when skip_reason = 'stale_features' then 1 end) as skipped_stale_features,
        count(case when skip_reason = 'incomplete_features' then 1 end) as skipped_incomplete_features
    from predictions
    group by game_date, system

),

final as (

    select
        skips.game_date,
        skips.system,
        coalesce(offered_outcomes.lines_offered, 0) as lines_offered,
        coalesce(offered_outcomes.predictions_made, 0) as predictions_made,
        coalesce(offered_outcomes.lines_not_scored, 0) as lines_not_scored,
        {{ safe_divide('offered_outcomes.predictions_made', 'offered_outcomes.lines_offered') }} as coverage,
        skips.n_rows,
        skips.n_predicted,
        skips.n_picks,
        skips.skipped_no_line,
        skips.skipped_player_out,
        skips.skipped_stale_features,
        skips.skipped_incomplete_features
    from skips
    left outer join offered_outcomes
        on skips.game_date = offered_outcomes.game_date and skips.system = offered_outcomes.system

)

select * from final

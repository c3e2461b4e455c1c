-- One row per (system, game_date, market): how the system's predictions and picks of that day did.
-- Sums of floats are taken in whole 1e-12 units (as in fct_prop_line_consensus): a float sum depends
-- on the order a parallel aggregate meets its inputs, a sum of whole numbers does not, so a rebuild
-- gives identical numbers.

with

grades as (

    select * from {{ ref('fct_prediction_grades') }}

),

daily as (

    select
        system,
        game_date,
        market,
        count(case when skip_reason is null then 1 end) as n_predictions,
        count(case when recommendation in ('OVER', 'UNDER') then 1 end) as n_picks,
        count(case when result = 'win' then 1 end) as wins,
        count(case when result = 'loss' then 1 end) as losses,
        count(case when result = 'push' then 1 end) as pushes,
        count(case when result = 'void' then 1 end) as voids,
        count(case when result = 'pending' then 1 end) as pending,
        count(abs_error) as n_errors,
        avg(round(abs_error * 1e12)) / 1e12 as mae,
        sum(round(profit * 1e12)) / 1e12 as profit,
        count(clv) as n_clv,
        avg(round(clv * 1e12)) / 1e12 as mean_clv
    from grades
    group by system, game_date, market

),

final as (

    select
        system,
        game_date,
        market,
        n_predictions,
        n_picks,
        wins + losses + pushes as n_graded,
        wins,
        losses,
        pushes,
        voids,
        pending,
        n_errors,
        mae,
        {{ safe_divide('wins', 'wins + losses') }} as hit_rate,
        case when wins + losses + pushes > 0 then profit end as profit,
        {{ safe_divide('profit', 'wins + losses + pushes') }} as roi,
        n_clv,
        mean_clv
    from daily

)

select * from final

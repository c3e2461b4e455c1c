-- One row per prediction row: the pick graded against the line it was made at, settled at the price
-- it could have been taken at, and measured against the closing line.
-- Price taken: among the books whose last pre-game snapshot at or before pick time (the row's
-- features_as_of) quotes the pick's line, the best decimal price of the recommended side, as a
-- bettor shopping the books at pick time would get. When no book quoted that line (the consensus
-- median fell between two books' lines), the standard -110 (21/11 in decimal odds).
{% set standard_decimal_odds = '(21.0 / 11.0)' %}

{% set float_type = 'float64' if target.type == 'bigquery' else 'double' %}
with

predictions as (

    select * from {{ ref('stg_models_ml__predictions') }}

),

outcomes as (

    select * from {{ ref('fct_player_prop_outcomes') }}

),

prop_lines as (

    select * from {{ ref('fct_prop_lines') }}

),

consensus as (

    select * from {{ ref('fct_prop_line_consensus') }}

),

picks as (

    select
        game_date,
        system,
        game_id,
        player_id,
        market,
        line,
        recommendation,
        features_as_of
    from predictions
    where recommendation in ('OVER', 'UNDER')

),

-- each book's last pre-game snapshot at or before pick time, with its price of the pick's side
book_quotes as (

    select
        picks.game_date,
        picks.system,
        picks.game_id,
        picks.player_id,
        picks.market,
        picks.line as pick_line,
        prop_lines.line as book_line,
        case
            when picks.recommendation = 'OVER' then prop_lines.over_decimal_odds
            else prop_lines.under_decimal_odds
        end as side_decimal_odds
    from picks
    inner join prop_lines
        on
            picks.game_id = prop_lines.game_id
            and picks.player_id = prop_lines.player_id
            and picks.market = prop_lines.market
    where prop_lines.is_pre_game and prop_lines.snapshot_at <= picks.features_as_of
    qualify row_number() over (
        partition by
            picks.game_date, picks.system, picks.game_id, picks.player_id, picks.market,
            prop_lines.bookmaker_key
        order by prop_lines.snapshot_at desc
    ) = 1

),

best_prices as (

    select
        game_date,
        system,
        game_id,
        player_id,
        market,
        max(side_decimal_odds) as best_decimal_odds,
        count(*) as n_books_at_line
    from book_quotes
    where book_line = pick_line and side_decimal_odds is not null
    group by game_date, system, game_id, player_id, market

),

joined as (

    select
        predictions.game_date,
        predictions.system,
        predictions.game_id,
        predictions.player_id,
        predictions.market,
        predictions.run_id,
        predictions.model_version,
        predictions.line,
        predictions.no_vig_over_probability,
        predictions.predicted_value,
        predictions.probability_over,
        predictions.edge,
        predictions.recommendation,
        predictions.confidence,
        predictions.skip_reason,
        predictions.reason_1,
        predictions.reason_2,
        predictions.reason_3,
        outcomes.did_play,
        outcomes.actual_value,
        best_prices.best_decimal_odds,
        best_prices.n_books_at_line,
        consensus.close_line,
        consensus.close_no_vig_over_probability,
        outcomes.player_id is not null as is_final,
        predictions.recommendation in ('OVER', 'UNDER') as is_pick
    from predictions
    left outer join outcomes
        on
            predictions.player_id = outcomes.player_id
            and predictions.game_id = outcomes.game_id
            and predictions.market = outcomes.market
    left outer join best_prices
        on
            predictions.game_date = best_prices.game_date
            and predictions.system = best_prices.system
            and predictions.game_id = best_prices.game_id
            and predictions.player_id = best_prices.player_id
            and predictions.market = best_prices.market
    left outer join consensus
        on
            predictions.game_id = consensus.game_id
            and predictions.player_id = consensus.player_id
            and predictions.market = consensus.market

),

graded as (

    select
        *,
        case
            when not is_pick then 'no_pick'
            when not is_final then 'pending'
            when not did_play then 'void'
            when actual_value = line then 'push'
            when recommendation = 'OVER' and actual_value > line then 'win'
            when recommendation = 'UNDER' and actual_value < line then 'win'
            else 'loss'
        end as result,
        case
            when is_pick then coalesce(best_decimal_odds, {{ standard_decimal_odds }})
        end as price_taken,
        case
            when is_pick and best_decimal_odds is not null then 'best_book_at_line'
            when is_pick then 'standard_-110'
        end as price_source,
        -- the market's no-vig probability of the side taken, at pick time and at the close
        case
            when recommendation = 'OVER' then no_vig_over_probability
            when recommendation = 'UNDER' then 1 - no_vig_over_probability
        end as pick_no_vig_probability,
        case
            when recommendation = 'OVER' then close_no_vig_over_probability
            when recommendation = 'UNDER' then 1 - close_no_vig_over_probability
        end as close_no_vig_probability,
        -- the closing line's move in the side's favour (a higher close helps an over)
        case
            when recommendation = 'OVER' then close_line - line
            when recommendation = 'UNDER' then line - close_line
        end as close_line_gain,
        case
            when did_play then abs(predicted_value - actual_value)
        end as abs_error,
        case
            when did_play and line is not null then actual_value > line
        end as went_over
    from joined

),

final as (

    select
        game_date,
        system,
        game_id,
        player_id,
        market,
        run_id,
        model_version,
        line,
        no_vig_over_probability,
        predicted_value,
        probability_over,
        edge,
        recommendation,
        confidence,
        skip_reason,
        reason_1,
        reason_2,
        reason_3,
        did_play,
        actual_value,
        went_over,
        result,
        price_taken,
        price_source,
        n_books_at_line,
        cast(
            case
                when result = 'win' then price_taken - 1
                when result = 'loss' then -1
                when result in ('push', 'void') then 0
            end as {{ float_type }}
        ) as profit,
        pick_no_vig_probability,
        close_line,
        close_no_vig_probability,
        close_no_vig_probability - pick_no_vig_probability as clv,
        close_line_gain,
        abs_error
    from graded

)

select * from final

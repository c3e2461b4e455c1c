-- noqa: disable=RF04
-- (system is the predictions table's own column name)
-- One row per (game_date, system, game, player, market) that models_ml scored, typed and held to
-- the contract (confidence 0..100, recommendation and skip reason in their sets). A table, not the
-- folder's view: DuckDB enforces a contract's check constraints only when it writes a table, and the
-- contract is what refuses a bad row before the grades read it.
-- The raw table appears with the first scoring run: until then this is empty, typed the same.
{{ config(materialized='table') }}
{%- set float_type = 'float64' if target.type == 'bigquery' else 'double' %}

{%- set raw = source('raw_models_ml', 'predictions') %}
{%- set loaded = relation_exists(raw) %}

with

source as (

    {% if loaded %}
    select * from {{ raw }}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as run_id,
            cast(null as {{ dbt.type_string() }}) as system,
            cast(null as {{ dbt.type_string() }}) as model_version,
            cast(null as date) as game_date,
            cast(null as {{ dbt.type_string() }}) as game_id,
            cast(null as {{ dbt.type_bigint() }}) as player_id,
            cast(null as {{ dbt.type_string() }}) as market,
            cast(null as {{ float_type }}) as line,
            cast(null as {{ dbt.type_string() }}) as line_source,
            cast(null as {{ float_type }}) as no_vig_over_probability,
            cast(null as {{ float_type }}) as predicted_value,
            cast(null as {{ float_type }}) as predicted_median,
            cast(null as {{ float_type }}) as probability_over,
            cast(null as {{ float_type }}) as edge,
            cast(null as {{ dbt.type_string() }}) as recommendation,
            cast(null as {{ float_type }}) as confidence,
            cast(null as {{ dbt.type_string() }}) as skip_reason,
            cast(null as {{ dbt.type_string() }}) as reason_1,
            cast(null as {{ dbt.type_string() }}) as reason_2,
            cast(null as {{ dbt.type_string() }}) as reason_3,
            cast(null as timestamp) as features_as_of,
            cast(null as timestamp) as feature_inputs_loaded_at,
            cast(null as timestamp) as predicted_at
        from (select 1 as one) as nothing
        where false
    {% endif %}

),

final as (

    select
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(system as {{ dbt.type_string() }}) as system,
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(game_date as date) as game_date,
        cast(game_id as {{ dbt.type_string() }}) as game_id,
        cast(player_id as {{ dbt.type_bigint() }}) as player_id,
        cast(market as {{ dbt.type_string() }}) as market,
        cast(line as {{ float_type }}) as line,
        cast(line_source as {{ dbt.type_string() }}) as line_source,
        cast(no_vig_over_probability as {{ float_type }}) as no_vig_over_probability,
        cast(predicted_value as {{ float_type }}) as predicted_value,
        cast(predicted_median as {{ float_type }}) as predicted_median,
        cast(probability_over as {{ float_type }}) as probability_over,
        cast(edge as {{ float_type }}) as edge,
        cast(recommendation as {{ dbt.type_string() }}) as recommendation,
        cast(confidence as {{ float_type }}) as confidence,
        cast(skip_reason as {{ dbt.type_string() }}) as skip_reason,
        cast(reason_1 as {{ dbt.type_string() }}) as reason_1,
        cast(reason_2 as {{ dbt.type_string() }}) as reason_2,
        cast(reason_3 as {{ dbt.type_string() }}) as reason_3,
        cast(features_as_of as timestamp) as features_as_of,
        cast(feature_inputs_loaded_at as timestamp) as feature_inputs_loaded_at,
        cast(predicted_at as timestamp) as predicted_at
    from source

)

select * from final

-- One row per (system, market, probability bucket of width 0.1): how often the stat went over the
-- line when the model gave the over a probability in that bucket, over every graded prediction
-- (picks and passes alike: the probability is the model's either way). A push is not an over,
-- as P(stat > line) says. Means are taken in whole 1e-12 units, so that a rebuild is identical.

{% set float_type = 'float64' if target.type == 'bigquery' else 'double' %}
with

grades as (

    select * from {{ ref('fct_prediction_grades') }}

),

bucketed as (

    select
        system,
        market,
        probability_over,
        -- 1.0 belongs to the top bucket
        least(cast(floor(probability_over * 10) as {{ dbt.type_bigint() }}), 9) as bucket,
        went_over
    from grades
    where probability_over is not null and went_over is not null

),

final as (

    select
        system,
        market,
        bucket,
        cast(bucket as {{ float_type }}) / 10 as probability_bucket_lower,
        cast(bucket + 1 as {{ float_type }}) / 10 as probability_bucket_upper,
        count(*) as n,
        avg(round(probability_over * 1e12)) / 1e12 as mean_probability_over,
        cast(count(case when went_over then 1 end) as {{ float_type }}) / count(*) as observed_over_rate
    from bucketed
    group by system, market, bucket

)

select * from final

-- One row per sportsbook whose lines the platform reads.
with

bookmakers as (

    select * from {{ ref('bookmakers') }}

),

final as (

    select
        bookmaker_key,
        bookmaker_title,
        region
    from bookmakers

)

select * from final

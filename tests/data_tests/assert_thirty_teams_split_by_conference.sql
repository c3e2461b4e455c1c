-- Assert that the league has 30 franchises, 15 in each conference.
with

teams as (

    select * from {{ ref('dim_teams') }}

),

per_conference as (

    select
        conference,
        count(*) as n_teams
    from teams
    group by conference

)

select *
from per_conference
where n_teams != 15
union all
select
    'all' as conference,
    count(*) as n_teams
from teams
having count(*) != 30

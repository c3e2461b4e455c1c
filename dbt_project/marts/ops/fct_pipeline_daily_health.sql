-- One row per date the daily job ran for: did its latest run complete, and what failed.
-- A view: the run log changes after the job's last dbt step (its own `run` row ends after
-- publishing), and a table built then would show every latest run as still running.
{{ config(schema='ops', materialized='view') }}

with

run_log as (

    select * from {{ ref('stg_pipeline__run_log') }}

),

runs as (

    select
        run_id,
        run_date,
        started_at,
        finished_at,
        seconds,
        status,
        row_number() over (partition by run_date order by started_at desc, run_id desc) as recency
    from run_log
    where step = 'run'

),

failed_steps as (

    select
        run_id,
        step,
        error,
        row_number() over (partition by run_id order by started_at, step) as step_order
    from run_log
    where step != 'run' and status in ('failed', 'breach', 'abandoned')

),

per_date as (

    select
        run_date,
        count(*) as runs,
        max(case when status = 'ok' then 1 else 0 end) = 1 as has_completed_run
    from runs
    group by run_date

),

abandoned as (

    select
        run_date,
        count(*) as abandoned_steps
    from run_log
    where status = 'abandoned'
    group by run_date

),

final as (

    select
        per_date.run_date,
        per_date.runs,
        latest.run_id as latest_run_id,
        latest.status as latest_status,
        per_date.has_completed_run,
        failed_steps.step as failed_step,
        failed_steps.error as failed_error,
        latest.started_at as latest_started_at,
        latest.finished_at as latest_finished_at,
        latest.seconds as latest_seconds,
        latest.status = 'ok' as is_latest_complete,
        coalesce(abandoned.abandoned_steps, 0) as abandoned_steps
    from per_date
    inner join runs as latest
        on per_date.run_date = latest.run_date and latest.recency = 1
    left outer join failed_steps
        on latest.run_id = failed_steps.run_id and failed_steps.step_order = 1
    left outer join abandoned on per_date.run_date = abandoned.run_date

)

select * from final

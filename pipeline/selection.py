"""The two dbt selections of the daily job, split where scoring sits (pipeline/dbt.py says why)."""

# what the daily job writes, read back by dbt: built after scoring, never before
WRITTEN_BY_THE_JOB = ("source:raw_models_ml+", "source:raw_pipeline+")
# data tests whose `where` is `__loaded_since_last_build__` (macros/get_where_subquery.sql) check
# the rows loaded since the last daily build, not the season (`make test` checks whole tables);
# one constant value for both steps keeps dbt's partial parse from step to step and day to day
DAILY_VARS = ("--vars", "{tests_on_new_loads_only: true}")
# dbt's unit tests check SQL logic on fixed rows, not the day's data: `make test` (CI) runs them
# on every change, the daily job does not pay for them every morning (about 3 s)
FEATURES = (*DAILY_VARS, "--exclude", *WRITTEN_BY_THE_JOB, "test_type:unit")
PREDICTIONS = (*DAILY_VARS, "--select", *WRITTEN_BY_THE_JOB, "--exclude", "test_type:unit")

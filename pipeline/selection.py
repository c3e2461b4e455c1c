"""The two dbt selections of the daily job, split where scoring sits (pipeline/dbt.py says why)."""

# what the daily job writes, read back by dbt: built after scoring, never before
WRITTEN_BY_THE_JOB = ("source:raw_models_ml+", "source:raw_pipeline+")
# dbt's unit tests check SQL logic on fixed rows, not the day's data: `make test` (CI) runs them
# on every change, the daily job does not pay for them every morning (about 3 s)
FEATURES = ("--exclude", *WRITTEN_BY_THE_JOB, "test_type:unit")
PREDICTIONS = ("--select", *WRITTEN_BY_THE_JOB, "--exclude", "test_type:unit")

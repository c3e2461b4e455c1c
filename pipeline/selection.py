"""The two dbt selections of the daily job, split where scoring sits (pipeline/dbt.py says why)."""

# what the daily job writes, read back by dbt: built after scoring, never before
WRITTEN_BY_THE_JOB = ("source:raw_models_ml+", "source:raw_pipeline+")
FEATURES = ("--exclude", *WRITTEN_BY_THE_JOB)
PREDICTIONS = ("--select", *WRITTEN_BY_THE_JOB)

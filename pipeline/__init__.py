"""The daily job: extract -> dbt (feature store) -> score -> dbt (prediction marts) -> publish.

One run id threads every step, one lock keeps one job per warehouse, and the run log
(`raw_pipeline.run_log`, kept forever) records each step as it starts and ends. The package calls
extract/, dbt and models_ml/ through their public entry points, in one process; the Makefile calls
nothing else for the daily job.
"""

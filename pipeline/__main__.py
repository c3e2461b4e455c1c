"""`python -m pipeline daily|status`.

The process's garbage collector is tuned for a run that loads dbt's manifest, pandas, catboost and
matplotlib (millions of long-lived objects): with the default thresholds a full collection walks
all of them a dozen times over a daily run, and the interpreter's shutdown walks them again
several times, seconds in all on 2 cores. Nothing is written differently; only when cyclic
garbage is collected changes (rarely, at a cost of some memory).
"""

import gc

from pipeline.cli import app

# full collections (of the oldest generation) ten times rarer; the younger two as before
young, middle, _ = gc.get_threshold()
gc.set_threshold(young, middle, 100)
try:
    app(prog_name="python -m pipeline")
finally:
    # what is left is freed by the process's exit: no collection of the whole heap at shutdown
    gc.freeze()

"""Failures of the daily job, each naming the step and what to do about it.

A `StepFailedError` stops the run: nothing later in the chain runs on what the failed step left. The
command line turns each into its exit code and one clear line on screen; the run log keeps the same
words. A coverage breach is different by design: the run publishes what it has, then exits non-zero.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class: the daily job cannot go on."""

    exit_code = 1


class ConfigError(PipelineError):
    """The environment or the command line asks for something the daily job cannot do."""

    exit_code = 2


class DailyLockHeldError(PipelineError):
    """Another daily job holds the warehouse: this one did not start (EX_TEMPFAIL: try later)."""

    exit_code = 75


class StepFailedError(PipelineError):
    """One step of the chain failed; `step` names it, the message says why."""

    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        self.reason = reason
        super().__init__(f"step {step} failed: {reason}")


class DependencyCheckError(StepFailedError):
    """Inputs the scoring step needs are missing or stale (override with --force)."""

    exit_code = 4


class CoverageBreachError(PipelineError):
    """Predictions made over player lines offered fell below the target; files were published
    (`result` says where)."""

    exit_code = 3
    result: object = None

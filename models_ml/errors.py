"""Every failure of models_ml is a ModelsError naming the source, the record and the field."""

from __future__ import annotations


class ModelsError(Exception):
    """Base class: the pipeline catches this one and records it in its run log."""


class WarehouseError(ModelsError):
    """The warehouse lacks a table or rows the step needs (dbt has not built them yet)."""


class NoModelError(ModelsError):
    """No trained model in the registry may score the date asked for."""


class FeatureContractError(ModelsError):
    """The feature store's columns or types differ from those a model was trained on."""

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class PredictionValidationError(ModelsError):
    """A prediction row breaks a rule (range, enum, NaN, consistency); nothing was written."""

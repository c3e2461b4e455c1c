"""The scoring package: train, predict and backtest the prop systems on the feature store.

It reads only the feature-store marts (features.fct_player_prop_features and its labels,
features.fct_player_prop_outcomes) and writes raw_models_ml.predictions, which dbt reads as a
source. Nothing runs at import.
"""

"""Prefect flows (nightly, backfill, survey import, retrain) and the `onps` command line."""

"""Prefect flows (composition only) and the `docpipe` command line."""

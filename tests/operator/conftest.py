"""Fixtures of the operator's end-to-end tests (see ``harness``)."""

"""The submitter: build an application's resources and write them through the compat planner.

Owns deterministic naming per application and attempt, adopting what exists on retry, cleaning
up after a partial failure, and following the driver. It composes the driver builder, the
planner and the kube client; it holds no version facts of its own.
"""

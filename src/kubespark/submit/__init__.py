"""The submitter: build an application's resources and write them through the compat planner.

Owns deterministic naming per application and attempt, adopting what exists on retry, cleaning
up after a partial failure, and following the driver. It composes the driver builder, the
planner and the kube client; it holds no version facts of its own.

Public surface::

    submit_application(client, app, surface=, submission_id=, attempt=)  -> Submission
    plan_submission(app, surface=, submission_id=, attempt=)             -> SubmissionPlan
    server_capabilities(client)       the server's API surface, discovered once per client
    driver_status(client, app)        the driver pod as kubeflow reads it (state, waiting reason)
    delete_application(client, app, surface=)
    SubmissionFailed / SubmissionConflict (with the doctor's Diagnosis)
"""

from kubespark.submit.driverstate import (
    DriverState,
    ExecutorState,
    Waiting,
    driver_failure_message,
    driver_state,
    executor_state,
    pod_waiting,
)
from kubespark.submit.errors import Diagnosis, SubmissionConflict, SubmissionFailed, diagnose
from kubespark.submit.follow import DriverStatus, delete_application, driver_status, status_of_pod
from kubespark.submit.submitter import (
    FIELD_MANAGER,
    Submission,
    SubmissionPlan,
    plan_submission,
    server_capabilities,
    submit_application,
)

__all__ = [
    "FIELD_MANAGER",
    "Diagnosis",
    "DriverState",
    "DriverStatus",
    "ExecutorState",
    "Submission",
    "SubmissionConflict",
    "SubmissionFailed",
    "SubmissionPlan",
    "Waiting",
    "delete_application",
    "diagnose",
    "driver_failure_message",
    "driver_state",
    "driver_status",
    "executor_state",
    "plan_submission",
    "pod_waiting",
    "server_capabilities",
    "status_of_pod",
    "submit_application",
]

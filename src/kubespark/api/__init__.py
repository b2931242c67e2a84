"""kubespark from Python: :class:`Client` and :class:`AsyncClient`, and the application handle.

Owns the calls a program (an Airflow task, a Dagster op, a notebook) makes: submit directly,
create the operator's SparkApplication, get, list, logs, delete, wait. It holds no logic of its
own: every call is the library's (``kubespark.submit``), the same code the CLI runs.
"""

from kubespark.api.client import Application, AsyncClient, Client, SubmissionError

__all__ = ["Application", "AsyncClient", "Client", "SubmissionError"]

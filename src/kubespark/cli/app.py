"""The ``kubespark`` typer application and its entry point.

Subcommands register here, in the order ``--help`` shows them. Exit codes shared by all commands:
0 success / compatible, 1 a finding (incompatible, an issue diagnosed, a failed application),
2 usage or input error.
"""

from __future__ import annotations

import sys

import typer

from kubespark.cli import check, demo, matrix
from kubespark.cli import doctor as doctor_cmd
from kubespark.cli import emulate as emulate_cmd
from kubespark.cli import plan as plan_cmd
from kubespark.cli import proxy as proxy_cmd
from kubespark.cli import validate as validate_cmd
from kubespark.cli.output import fail_on_input_errors

app = typer.Typer(
    name="kubespark",
    help="Run Spark 3.x/4.x on any Kubernetes 1.16+, and know before you deploy what will break.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("demo")(fail_on_input_errors(demo.demo))
app.command("check")(fail_on_input_errors(check.check))
app.command("matrix")(fail_on_input_errors(matrix.matrix))
app.command("doctor")(fail_on_input_errors(doctor_cmd.doctor))
app.command("plan")(fail_on_input_errors(plan_cmd.plan))
app.command("emulate")(fail_on_input_errors(emulate_cmd.emulate))
app.command("validate")(fail_on_input_errors(validate_cmd.validate))
app.command("proxy")(fail_on_input_errors(proxy_cmd.proxy))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)

"""The command line: a thin synchronous shell over the async core.

One module per subcommand, each exposing a typer command function; ``app`` wires them together.
Commands parse flags, call the library, and render; they hold no domain logic. Every
:class:`kubespark.errors.KubesparkError` becomes one clear message and exit code 2.
"""

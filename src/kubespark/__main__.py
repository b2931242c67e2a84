"""``python -m kubespark``: the same CLI as the ``kubespark`` console script."""

from kubespark.cli.app import main

main()

"""``python -m kubespark``: the same CLI as the ``kubespark`` console script."""

from kubespark.cli.entry import main

main()

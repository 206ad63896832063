"""``python -m alembic_datasync``: the same as the ``alembic-datasync`` script."""

from alembic_datasync.cli import main

main(prog="python -m alembic_datasync")

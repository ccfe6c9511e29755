"""The ``fieldroute`` command's entry point, which loads the command line only when it runs.

Every process the engine spawns (a solve's side process, the workers of a day's parts, job
workers, the service's server processes) imports the main script of the process that started
it again before its task: with the command line (``api.cli``: the desk, the store, the service,
the solver) as the script's import, each paid 2-3 s before it could search, inside the solve's
budget. The script imports this module instead, which imports nothing of the engine.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Run the ``fieldroute`` command line (``api.cli.app``)."""
    from api.cli import app  # loaded when run, not when spawned (see above)

    app()

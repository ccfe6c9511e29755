"""The engine's interfaces to people and programs: the ``fieldroute`` command line (``api.cli``)
and the HTTP service (``api.app.create_app``, its routes in ``api.routes``, what they depend on
in ``api.deps``).

Entry points live here, with their side effects: settings, the store, files, the terminal.
"""

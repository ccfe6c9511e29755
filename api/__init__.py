"""The engine's interfaces to people and programs: the ``fieldroute`` command line (``api.cli``).

Entry points live here, with their side effects: settings, the store, files, the terminal.
"""

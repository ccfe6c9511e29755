"""Horizons: several days planned at once.

``rounds`` finds the due dates of recurring rounds, ``days`` cuts a planned horizon into the
day problems each day's plan belongs to, ``roll`` carries what a week left undone into the
next horizon. Validation (``dispatch.contract.horizon``) builds the ``Horizon``; planning
(``dispatch.planning.week``) solves it.
"""

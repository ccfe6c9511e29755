"""The dispatch domain: validation, travel times, compile/decode around the solver, KPIs, store.

Knows nothing of HTTP or maps. The one door in is ``dispatch.validate.parse_problem``; the
planning service is ``dispatch.planning.plan_day``.
"""

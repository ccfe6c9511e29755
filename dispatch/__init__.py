"""The dispatch domain, in the order a day flows through it (``docs/architecture.md``):

- ``contract``: wire schemas, validation (the one door in: ``parse_problem``), sheets, the plan
  written back;
- ``planning``: eligibility, compile, the solver, decode, promises, KPIs (``plan_day``);
- ``replanning``: events and the next version of a plan;
- ``desk``: the desk's use cases over the store (re-plan a stored plan, driver view, tracking);
- beside them: the domain model, units, errors, config, ``travel``, ``persistence`` and
  ``verify`` (the independent checker).

Knows nothing of HTTP or maps.
"""

"""Planning a day: who may serve what (eligibility), the day compiled into numbers, the
solver's answer decoded, promised windows and KPIs. The only caller of ``solver.solve``."""

from dispatch.planning.day import Progress, SolveParams, plan_day, search_from

__all__ = ["Progress", "SolveParams", "plan_day", "search_from"]

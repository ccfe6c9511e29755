"""Planning a day: who may serve what (eligibility), the day compiled into numbers, the
solver's answer decoded, promised windows and KPIs. The only caller of ``solver.solve``."""

from dispatch.planning.day import Progress, SolveParams, plan_day, search_from
from dispatch.planning.params import policy_params

__all__ = ["Progress", "SolveParams", "plan_day", "policy_params", "search_from"]

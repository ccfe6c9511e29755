"""The desk's use cases over the store: re-plan a stored plan, a driver's view of a route, and
the time-tracking card."""

"""Folium maps of plans, for the desk and for drivers (to come; see the issue tracker)."""

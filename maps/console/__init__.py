"""The desk console: the page a dispatcher runs the day from (``maps.console.page`` says how it
is guarded, why it is plain JavaScript and what may reach it); its template, script and style
are this package's files."""

from maps.console.page import (
    AT_RISK_MIN,
    JOB_POLL_MS,
    LIST_LIMIT,
    REFRESH_S,
    console_page,
)

__all__ = [
    "AT_RISK_MIN",
    "JOB_POLL_MS",
    "LIST_LIMIT",
    "REFRESH_S",
    "console_page",
]

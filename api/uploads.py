"""A day sent as a form upload: two sheets (technicians, visits) or one workbook, beside the
day's date, time zone and policy.

``read_upload`` turns the form into the contract's problem JSON; the sheets are parsed off the
event loop (``dispatch.contract.sheets`` does the reading and names sheet, row and column of
each error). ``UPLOAD_FORM`` is the form's OpenAPI schema: it describes the fields read here,
so the two change together.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dispatch.contract.schema import DATE_PATTERN
from dispatch.contract.sheets import SheetDay, problem_from_sheets, read_table, read_workbook
from dispatch.contract.validate import load_json
from dispatch.errors import FieldError, InputError

__all__ = ["UPLOAD_FORM", "read_upload"]

#: The form's schema (``multipart/form-data``) in the OpenAPI document.
UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["date"],
    "properties": {
        "date": {"type": "string", "pattern": DATE_PATTERN},
        "timezone": {"type": "string", "default": "UTC"},
        "policy": {"type": "string", "description": "The policy as JSON."},
        "technicians": {"type": "string", "format": "binary"},
        "visits": {"type": "string", "format": "binary"},
        "workbook": {
            "type": "string",
            "format": "binary",
            "description": "One .xlsx with sheets 'technicians' and 'visits' "
            "(instead of two files).",
        },
    },
}


async def read_upload(request: Request) -> SheetDay:
    """The day the form ``request`` carries: its problem JSON and the validated ``Problem``.

    Raises
    ------
    InputError
        No date, a policy that is not a JSON object, missing files, or a sheet that cannot be
        read (with its sheet, row and column).
    """
    async with request.form() as form:
        date = form.get("date")
        if not isinstance(date, str) or not date:
            raise InputError([FieldError("date", "is required (YYYY-MM-DD)")], what="upload")
        timezone = form.get("timezone")
        policy_text = form.get("policy")
        policy = None
        if isinstance(policy_text, str) and policy_text.strip():
            policy = load_json(policy_text, what="policy")
            if not isinstance(policy, dict):
                raise InputError([FieldError("policy", "must be a JSON object")], what="upload")
        files = {name: form.get(name) for name in ("technicians", "visits", "workbook")}
        uploads = {k: v for k, v in files.items() if isinstance(v, UploadFile)}
        contents = {k: await v.read() for k, v in uploads.items()}
        names = {k: v.filename or k for k, v in uploads.items()}

    def build() -> SheetDay:
        if "workbook" in contents:
            technicians, visits = read_workbook(names["workbook"], contents["workbook"])
        elif {"technicians", "visits"} <= contents.keys():
            technicians = read_table(
                names["technicians"], contents["technicians"], sheet="technicians"
            )
            visits = read_table(names["visits"], contents["visits"], sheet="visits")
        else:
            raise InputError(
                [FieldError("", "send a 'workbook' file, or 'technicians' and 'visits' files")],
                what="upload",
            )
        return problem_from_sheets(
            technicians,
            visits,
            date=date,
            timezone=timezone if isinstance(timezone, str) and timezone else "UTC",
            policy=policy,
        )

    day: SheetDay = await run_in_threadpool(build)
    return day

"""A day sent as a form upload: two sheets (technicians, visits) or one workbook, beside the
day's date, time zone and policy.

``read_upload`` turns the form into the contract's problem JSON; the sheets are parsed off the
event loop (``dispatch.contract.sheets`` does the reading and names sheet, row and column of
each error). ``UPLOAD_FORM`` is the form's OpenAPI schema: it describes the fields read here,
so the two change together. A field it does not list, one sent twice, a text field sent as a
file (or the reverse) and a workbook beside sheet files are refused, never dropped.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

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


#: The form fields sent as text, and those sent as files; ``UPLOAD_FORM`` lists them all.
_TEXT_FIELDS = ("date", "timezone", "policy")
_FILE_FIELDS = ("technicians", "visits", "workbook")


def _fields(form: FormData) -> tuple[dict[str, str], dict[str, UploadFile]]:
    """The form's text fields and file fields, by name.

    A field the form does not read is refused rather than dropped, as the JSON contract
    refuses an unknown key: a misspelt ``time_zone`` would leave the day in UTC.

    Raises
    ------
    InputError
        Every field unknown, sent more than once, sent as a file where text is read (what
        ``curl -F policy=@policy.json`` does) or as text where a file is read, and a workbook
        sent beside a sheet file.
    """
    known = ", ".join(UPLOAD_FORM["properties"])
    errors: list[FieldError] = []
    texts: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for name in dict.fromkeys(form.keys()):
        values = form.getlist(name)
        value = values[0]
        if name not in UPLOAD_FORM["properties"]:
            errors.append(FieldError(name, f"unknown form field; known: {known}"))
        elif len(values) > 1:
            errors.append(FieldError(name, f"sent {len(values)} times: send it once"))
        elif name in _TEXT_FIELDS and isinstance(value, UploadFile):
            why = f"must be text, not a file (with curl, -F '{name}=<file' sends a file's text)"
            errors.append(FieldError(name, why))
        elif name in _FILE_FIELDS and not isinstance(value, UploadFile):
            errors.append(FieldError(name, f"must be a file (with curl, -F '{name}=@file')"))
        elif isinstance(value, UploadFile):
            files[name] = value
        else:
            texts[name] = value
    if "workbook" in files and files.keys() & {"technicians", "visits"}:
        why = "send one workbook, or technicians and visits files, not both"
        errors.append(FieldError("workbook", why))
    if errors:
        raise InputError(errors, what="upload")
    return texts, files


def _policy(text: str) -> dict[str, Any] | None:
    """The policy field's JSON object (``None`` for a blank field), errors named ``policy``."""
    if not text.strip():
        return None
    try:
        policy = load_json(text, what="policy")
    except InputError as error:
        named = [FieldError("policy", e.message) for e in error.errors]
        raise InputError(named, what="upload") from None
    if not isinstance(policy, dict):
        raise InputError([FieldError("policy", "must be a JSON object")], what="upload")
    return policy


def _tables(contents: dict[str, bytes], names: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The technicians and visits files read as tables; when neither can be read, the errors
    of both (the second was named only once the first was mended)."""
    tables: list[pd.DataFrame] = []
    errors: list[FieldError] = []
    for sheet in ("technicians", "visits"):
        try:
            tables.append(read_table(names[sheet], contents[sheet], sheet=sheet))
        except InputError as error:
            errors.extend(error.errors)
    if errors:
        raise InputError(errors, what="upload")
    return tables[0], tables[1]


async def read_upload(request: Request) -> SheetDay:
    """The day the form ``request`` carries: its problem JSON and the validated ``Problem``.

    Raises
    ------
    InputError
        A field refused by ``_fields``, no date, a policy that is not a JSON object, missing
        files, or a sheet that cannot be read (with its sheet, row and column).
    """
    async with request.form() as form:
        texts, uploads = _fields(form)
        date = texts.get("date")
        if not date:
            raise InputError([FieldError("date", "is required (YYYY-MM-DD)")], what="upload")
        timezone = texts.get("timezone") or "UTC"
        policy = _policy(texts.get("policy", ""))
        contents = {k: await v.read() for k, v in uploads.items()}
        names = {k: v.filename or k for k, v in uploads.items()}

    def build() -> SheetDay:
        if "workbook" in contents:
            technicians, visits = read_workbook(names["workbook"], contents["workbook"])
        elif {"technicians", "visits"} <= contents.keys():
            technicians, visits = _tables(contents, names)
        else:
            raise InputError(
                [FieldError("", "send a 'workbook' file, or 'technicians' and 'visits' files")],
                what="upload",
            )
        return problem_from_sheets(technicians, visits, date=date, timezone=timezone, policy=policy)

    day: SheetDay = await run_in_threadpool(build)
    return day

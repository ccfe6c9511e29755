"""How an id or a code (a technician's or visit's id, a reference to one, a skill, a part
number) typed by a person is read from a spreadsheet's cell. A day sent as JSON is taken as
sent: its ids are the client's own strings.

An East Asian input method in its full-width mode types "T01" as the full-width forms of its
letters and digits, and text copied from a chat or a web page carries invisible characters
(a zero-width space) unseen: shown alike, either was another id than "T01". ``code_text``
reads such a cell as the ASCII it shows. Names, addresses, phones and notes are kept as
typed, so nothing here is applied to them. Nothing here knows sheets, JSON or HTTP.
"""

from __future__ import annotations

import unicodedata

__all__ = ["code_text", "half_width", "visible_text"]

#: The full-width forms of printable ASCII (U+FF01-U+FF5E, what an East Asian input method
#: types in its full-width mode) and the ideographic space (U+3000), each to its ASCII form.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def half_width(text: str) -> str:
    """``text`` with its full-width ASCII forms and ideographic spaces as ASCII: a full-width
    "T01" (U+FF34 U+FF10 U+FF11) is "T01", a full-width "9:30" is "9:30". Nothing else
    changes (NFKC would also turn a circled 1 into "1" and half-width katakana into
    full-width)."""
    return text.translate(_HALF_WIDTH)


def visible_text(text: str) -> str:
    """``text`` without invisible format characters (Unicode category Cf: a zero-width space,
    a byte-order mark, a direction mark), which text copied from a web page or a chat carries
    unseen."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def code_text(text: str) -> str:
    """An id or a code as compared with others: ``text`` without invisible format characters
    (``visible_text``) and with its full-width ASCII forms as ASCII (``half_width``). Shown
    alike, "T1" pasted with a zero-width space was another technician than "T1", and a skill
    so pasted one nobody had."""
    return half_width(visible_text(text))

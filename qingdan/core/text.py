"""The one rule for text: which characters a stored text may hold, how names compare, how text is shown.

- :func:`bad_characters` / :func:`check_text` — what every text field of a command (and the actor)
  refuses: control characters (category ``Cc``) other than newline and tab, surrogates (``Cs``),
  private-use characters (``Co``), **format characters** (``Cf``: the right-to-left override U+202E,
  the isolates U+2066–U+2069, the zero-width space U+200B and joiners, the byte-order mark U+FEFF, the
  tag characters U+E0000–U+E007F …) and the line and paragraph separators U+2028/U+2029. They make a
  name display reversed, hidden or differently from what is compared; nothing a clerk types needs them.
- :func:`name_key` — how two names are compared for "the same": NFKC (full-width ``ＡＢＣ`` = ``ABC``,
  ``（`` = ``(``), format characters removed, white space collapsed, case folded.
- :func:`terminal_safe` — text as it may reach a terminal: every character the rule refuses (ESC …)
  written visibly as ``\\x1b`` / ``\\u202e``, so no stored or typed text can move the cursor,
  recolour, or reverse what follows.
- :func:`show` — a value echoed in a message: cut to a few dozen characters *first*, then made
  visible (a 20-million-character value costs no more than a short one).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

#: Controls a text may hold.
ALLOWED_CONTROLS = frozenset("\n\t")
#: Unicode categories refused in any text.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
#: The longest actor text (a name and a department).
ACTOR_MAX = 100


def _refused(ch: str) -> bool:
    return unicodedata.category(ch) in REFUSED_CATEGORIES and ch not in ALLOWED_CONTROLS


def _code(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else (f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")


def bad_characters(value: str) -> list[str]:
    """The refused characters of ``value`` (as ``U+202E``), each once, in order; [] when it is fine."""
    if value.isprintable():  # the usual case, checked in C (Cf, Cc, Zl, Zp, Cs, Co are unprintable)
        return []
    return list(dict.fromkeys(f"U+{ord(ch):04X}" for ch in value if _refused(ch)))


def check_text(value: str) -> None:
    """Raise ValueError (a clerk's message) if ``value`` holds a refused character."""
    bad = bad_characters(value)
    if bad:
        raise ValueError(f"含有不可见的控制字符或格式字符（{'、'.join(bad[:5])}），请删去后重试")


def check_actor(value: str) -> str:
    """The actor text as stored with every event: stripped, non-empty, at most :data:`ACTOR_MAX`
    characters, no refused character. Raises ValueError otherwise."""
    if len(value) > 10 * ACTOR_MAX:
        raise ValueError(f"操作人太长（共 {len(value)} 字，最多 {ACTOR_MAX} 字）")
    text = value.strip()
    if not text:
        raise ValueError("操作人不能为空")
    if len(text) > ACTOR_MAX:
        raise ValueError(f"操作人太长（共 {len(text)} 字，最多 {ACTOR_MAX} 字）")
    check_text(text)
    return text


_SPACES = re.compile(r"\s+")


def name_key(value: Any) -> Any:
    """The form in which two names are the same: NFKC, format characters removed, white space
    collapsed, case folded. Anything not a string is returned as it is."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFKC", value)
    if not text.isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _SPACES.sub(" ", text).strip().casefold()


_VISIBLE = {"\n": "\n", "\t": "\t"}


def terminal_safe(text: str) -> str:
    """``text`` with every refused character (ESC, RTL override, zero-width …) written as its escape."""
    if text.isprintable():
        return text
    return "".join(_code(ch) if _refused(ch) else ch for ch in text)


def json_safe(text: str) -> str:
    """JSON text with every refused character written as a JSON escape (``\\u202e``; a character
    beyond the BMP as its surrogate pair): the same data to a JSON reader, nothing hidden or
    reversed on a screen that shows the raw text."""
    if text.isprintable() or all(not _refused(ch) for ch in text):
        return text
    out = []
    for ch in text:
        if not _refused(ch) or ch == "\n":
            out.append(ch)
            continue
        n = ord(ch)
        if n < 0x10000:
            out.append(f"\\u{n:04x}")
        else:
            n -= 0x10000
            out.append(f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}")
    return "".join(out)


def show(value: Any, limit: int = 40) -> str:
    """An input value as a clerk can read it in a message: cut to ``limit`` characters, then control
    and format characters made visible."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = repr(value)
    length = len(text)
    cut = text[:limit]
    cut = "".join(_code(ch) if not ch.isprintable() else ch for ch in cut)
    return cut if length <= limit else cut + f"…（共 {length} 字）"

"""Turning whatever a visitor types into a query the database cannot choke on."""

from __future__ import annotations

import re

#: Longer input is cut here; nobody means more.
QUERY_MAX = 1000
TERMS_MAX = 24
_TOKENS = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+")


def phrases(text: str) -> list[str]:
    """The words and "quoted phrases" of a query, cleaned of every operator character."""
    result: list[str] = []
    for quoted, bare in _TOKENS.findall(text[:QUERY_MAX]):
        if quoted:
            words = _WORD.findall(quoted)
            if words:
                result.append(" ".join(words))
        else:
            result.extend(_WORD.findall(bare))
        if len(result) >= TERMS_MAX:
            break
    return result[:TERMS_MAX]


def fts5_query(text: str) -> str | None:
    """An FTS5 MATCH expression: every word or phrase required, each safely quoted."""
    parts = phrases(text)
    if not parts:
        return None
    return " ".join('"' + part.replace('"', '""') + '"' for part in parts)


def websearch_text(text: str) -> str | None:
    """Text for PostgreSQL's websearch_to_tsquery (which accepts any input), or None if empty."""
    parts = phrases(text)
    if not parts:
        return None
    # Every part quoted: a bare "or" would otherwise turn the search into "either word".
    return " ".join(f'"{part}"' for part in parts)

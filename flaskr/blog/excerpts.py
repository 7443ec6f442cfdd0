"""What lists show of a post: its opening, up to the author's <!--more--> or about 60 words."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from flaskr import markup

#: Words of a post lists show when its author marked no place with <!--more-->.
EXCERPT_WORDS = 60
#: Words read per minute, for "N min read" (a common estimate for screen reading).
WORDS_PER_MINUTE = 230

# Rendered bodies are sanitized HTML: tags and text alternate, and text holds no "<".
_TOKEN = re.compile(r"(<[^>]*>)|([^<]+)")
_TAG_NAME = re.compile(r"</?([a-zA-Z0-9]+)")
_VOID = frozenset({"br", "hr", "img", "wbr", "col", "input", "source", "area"})


@dataclass
class Reading:
    """A post as lists show it."""

    #: The opening HTML (the whole body when it is short).
    excerpt: str
    #: True when the post holds more than the excerpt.
    more: bool
    #: Minutes a reader needs for the whole post, at least 1.
    minutes: int


def reading(body_html: str, own_excerpt: str | None = None) -> Reading:
    """The excerpt of a rendered body (the author's own, if written), whether there is
    more, and its reading time."""
    minutes = max(1, math.ceil(_word_count(body_html) / WORDS_PER_MINUTE))
    if own_excerpt:
        return Reading(markup.render(own_excerpt), True, minutes)
    head, marker, _ = body_html.partition(markup.MORE)
    if marker:
        return Reading(head, True, minutes)
    excerpt, cut = _first_words(body_html, EXCERPT_WORDS)
    return Reading(excerpt, cut, minutes)


def _word_count(body_html: str) -> int:
    return sum(len(text.split()) for _, text in _TOKEN.findall(body_html) if text)


def _first_words(body_html: str, limit: int) -> tuple[str, bool]:
    """The HTML up to `limit` words, its open elements closed; True if that cut anything."""
    out: list[str] = []
    open_tags: list[str] = []
    count = 0
    for tag, text in _TOKEN.findall(body_html):
        if tag:
            name = _TAG_NAME.match(tag)
            if name and tag.startswith("</"):
                if open_tags:
                    open_tags.pop()
            elif name and name.group(1).lower() not in _VOID and not tag.endswith("/>"):
                open_tags.append(name.group(1))
            out.append(tag)
            continue
        words = len(text.split())
        if count + words <= limit:
            out.append(text)
            count += words
            continue
        # Cut this text after the limit's last word (whitespace kept between words;
        # entities such as &amp; hold no whitespace, so none is cut in half).
        pieces = re.split(r"(\s+)", text)
        kept, taken = [], 0
        for piece in pieces:
            if piece and not piece.isspace():
                if taken == limit - count:
                    break
                taken += 1
            kept.append(piece)
        out.append("".join(kept).rstrip() + "\u2026")
        out.extend(f"</{name}>" for name in reversed(open_tags))
        return "".join(out), True
    return body_html, False

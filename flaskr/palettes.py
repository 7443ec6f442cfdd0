"""The colours of highlighted code: one palette per theme, each readable on its background.

Pygments' styles were made for their own backgrounds, not ours, and some of
their colours fall below WCAG AA contrast on our code blocks (comments in the
light theme, keywords in the dark one). Each colour of a palette is moved
towards black or white, keeping its hue, until it reaches MIN_CONTRAST on the
background it is shown on.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pygments.formatters import HtmlFormatter
from pygments.style import Style
from pygments.styles import get_style_by_name

#: WCAG 2.2 AA asks 4.5:1 for text; a little more, so rounding never drops below.
MIN_CONTRAST = 4.6
#: The class prefix markup.py's formatter gives highlighted tokens.
CLASS_PREFIX = "hl-"


#: Where the dark theme applies: the device asks for it and the reader did not
#: choose light, or the reader chose dark (style.css does the same with light-dark()).
_DARK_SCOPES = (
    ("(prefers-color-scheme: dark)", ':root:not([data-theme="light"]) '),
    (None, ':root[data-theme="dark"] '),
)


@dataclass(frozen=True)
class Palette:
    """A Pygments style shown on a code background, in the scopes where its theme applies."""

    style: str
    #: style.css's --panel in this theme (a test keeps the two equal).
    background: str
    #: (media condition or None, selector prefix) pairs.
    scopes: tuple[tuple[str | None, str], ...] = ((None, ""),)


PALETTES = (
    Palette("default", "#f4f5f7"),
    Palette("github-dark", "#202226", _DARK_SCOPES),
)

# A foreground colour in a Pygments style definition (not a bg: or border: one).
_FOREGROUND = re.compile(r"(?<![:\w])#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _rgb(color: str) -> tuple[int, int, int]:
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    a, b = sorted((_luminance(_rgb(first)), _luminance(_rgb(second))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def readable(color: str, background: str) -> str:
    """color, or the nearest shade of it towards black or white that reaches MIN_CONTRAST."""
    if contrast(color, background) >= MIN_CONTRAST:
        return color
    # Away from the background: darker on a light one, lighter on a dark one.
    target = 0 if _luminance(_rgb(background)) > 0.18 else 255
    start = _rgb(color)
    # Never short of black or white: at step 100 the shade is the target itself.
    for step in range(1, 101):
        mixed = tuple(round(c + (target - c) * step / 100) for c in start)
        shade = "#{:02x}{:02x}{:02x}".format(*mixed)
        if contrast(shade, background) >= MIN_CONTRAST:
            break
    return shade


def _adjusted(palette: Palette) -> type[Style]:
    base = get_style_by_name(palette.style)
    styles = {
        token: _FOREGROUND.sub(lambda m: readable(m.group(0), palette.background), definition)
        for token, definition in base.styles.items()
    }
    return type(f"Readable_{base.__name__}", (Style,), {"styles": styles})


def _rules(palette: Palette) -> dict[str, str]:
    """{selector: CSS rule} for every token the palette colours."""
    formatter = HtmlFormatter(style=_adjusted(palette), classprefix=CLASS_PREFIX)
    return {
        line.split(" ", 1)[0]: line
        for line in formatter.get_style_defs("").splitlines()
        if line.startswith("." + CLASS_PREFIX)
    }


#: For a token another palette colours and this one does not: plain text again.
_PLAIN = "color: inherit; background-color: transparent; font-weight: inherit; font-style: inherit"


@functools.cache
def highlight_css() -> str:
    """The stylesheet for highlighted code in every theme (classes only, so the CSP holds).

    Made once per process: it depends on nothing but this module.
    """
    palettes = {palette: _rules(palette) for palette in PALETTES}
    every = sorted({selector for rules in palettes.values() for selector in rules})
    blocks = []
    for palette, rules in palettes.items():
        lines = [rules.get(selector, f"{selector} {{ {_PLAIN} }}") for selector in every]
        for media, prefix in palette.scopes:
            block = "\n".join(prefix + line for line in lines)
            blocks.append(block if media is None else f"@media {media} {{\n{block}\n}}")
    return "\n".join(blocks) + "\n"

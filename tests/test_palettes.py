"""Highlighted code is readable in both themes: every colour meets WCAG AA on its background."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flaskr import palettes

STYLE_CSS = Path(__file__).resolve().parent.parent / "flaskr" / "static" / "style.css"


def _colours(rules: str) -> list[str]:
    return re.findall(r"(?<![\w-])color: (#[0-9A-Fa-f]{3,6})\b", rules)


def test_every_token_colour_reaches_aa_contrast_on_its_theme_s_background():
    for palette in palettes.PALETTES:
        colours = _colours("\n".join(palettes._rules(palette).values()))
        assert len(colours) > 20, palette
        low = [c for c in colours if palettes.contrast(c, palette.background) < 4.5]
        assert low == [], (palette.style, low)


def test_the_styles_as_pygments_ships_them_would_not():
    # What the adjustment is for: the unadjusted palettes fail on our backgrounds.
    from pygments.styles import get_style_by_name

    for palette in palettes.PALETTES:
        shipped = " ".join(get_style_by_name(palette.style).styles.values())
        colours = re.findall(r"(?<![:\w])#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", shipped)
        assert any(palettes.contrast(c, palette.background) < 4.5 for c in colours), palette


def test_each_theme_colours_every_token_in_each_of_its_scopes():
    css = palettes.highlight_css()
    light, dark = palettes.PALETTES
    every = {s for p in palettes.PALETTES for s in palettes._rules(p)}
    for selector in every:
        # Light, unscoped; dark, where the device asks for it and where the reader chose it.
        assert re.search(rf"^{re.escape(selector)} {{", css, re.M), selector
        for _media, prefix in dark.scopes:
            assert re.search(rf"^{re.escape(prefix + selector)} {{", css, re.M), selector
    dark_rule = palettes._rules(dark)[".hl-k"]
    assert ':root[data-theme="dark"] ' + dark_rule in css
    assert "@media (prefers-color-scheme: dark) {\n" + ':root:not([data-theme="light"]) ' in css


@pytest.mark.parametrize(
    ("colour", "background"),
    [
        ("#3D7B7B", "#f4f5f7"),
        ("#ff7b72", "#ffffff"),
        ("#0000ff", "#202226"),
        ("#777777", "#777777"),
    ],
)
def test_readable_keeps_or_shifts_a_colour_just_enough(colour, background):
    shifted = palettes.readable(colour, background)
    assert palettes.contrast(shifted, background) >= palettes.MIN_CONTRAST
    if palettes.contrast(colour, background) >= palettes.MIN_CONTRAST:
        assert shifted == colour


def test_the_backgrounds_are_style_css_s_code_panels():
    css = STYLE_CSS.read_text()
    light, dark = (p.background for p in palettes.PALETTES)
    assert f"--panel: light-dark({light}, {dark});" in css

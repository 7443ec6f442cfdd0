"""Highlighted code is readable in both themes: every colour meets WCAG AA on its background."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flaskr import palettes

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent

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


def test_contrast_and_colours_are_computed_as_wcag_says():
    # Known answers: black on white is 21:1; #767676 is the lightest grey that
    # passes 4.5:1 on white, #777777 just fails.
    assert palettes.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert palettes.contrast("#ffffff", "#000000") == pytest.approx(21.0)
    assert palettes.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert palettes.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert palettes.contrast("#336699", "#336699") == pytest.approx(1.0)
    # Short and long forms, each channel in its place.
    assert palettes._rgb("#abc") == (170, 187, 204)
    assert palettes._rgb("#a0b1c2") == (160, 177, 194)
    assert palettes._luminance((255, 255, 255)) == pytest.approx(1.0)
    assert palettes._luminance((128, 128, 128)) == pytest.approx(0.2158, abs=0.0005)
    assert palettes._luminance((255, 0, 0)) == pytest.approx(0.2126)
    assert palettes._luminance((0, 255, 0)) == pytest.approx(0.7152)
    assert palettes._luminance((0, 0, 255)) == pytest.approx(0.0722)
    assert palettes._luminance((10, 10, 10)) == pytest.approx(10 / 255 / 12.92)


@pytest.mark.parametrize(
    ("colour", "background"),
    [
        ("#777777", "#ffffff"),
        ("#3D7B7B", "#f4f5f7"),
        ("#444444", "#202226"),
        ("#2251a3", "#16171a"),
    ],
)
def test_readable_moves_a_colour_the_least_that_reaches_the_limit(colour, background):
    shade = palettes.readable(colour, background)
    assert shade != colour and shade.startswith("#") and len(shade) == 7 and shade == shade.lower()
    assert palettes.contrast(shade, background) >= palettes.MIN_CONTRAST
    # Away from the background: darker on a light one, lighter on a dark one.
    lighter = sum(palettes._rgb(shade)) > sum(palettes._rgb(colour))
    assert lighter == (palettes._luminance(palettes._rgb(background)) < 0.18)
    # One percent less of a move would not do.
    start, end = palettes._rgb(colour), palettes._rgb(shade)
    target = 0 if not lighter else 255
    step = round((end[0] - start[0]) / (target - start[0]) * 100) if target != start[0] else 0
    before = tuple(round(c + (target - c) * (step - 1) / 100) for c in start)
    assert (
        palettes.contrast("#{:02x}{:02x}{:02x}".format(*before), background) < palettes.MIN_CONTRAST
    )


def test_the_stylesheet_starts_with_the_light_theme_and_ends_cleanly():
    css = palettes.highlight_css()
    assert css.startswith(".hl-")  # the light palette, unscoped and unwrapped
    assert css.endswith(" */\n") and not css.endswith("\n\n")
    assert "@media None" not in css

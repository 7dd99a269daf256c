"""The console's fonts: one stylesheet of npm's @font-face rules pointed at the console's own route,
and a font route that serves only those files."""

from __future__ import annotations

from pathlib import Path

from services.console import fonts


def test_the_stylesheet_points_every_face_at_the_console_and_covers_devanagari() -> None:
    css = fonts.stylesheet()
    assert "url(./files/" not in css
    assert f"url({fonts.ROUTE}/noto-sans-devanagari/noto-sans-devanagari-devanagari-400-normal.woff2)" in css
    assert "font-family: 'Noto Sans Tamil'" in css
    assert "font-weight: 700" in css


def test_every_file_the_stylesheet_names_is_served() -> None:
    css = fonts.stylesheet()
    for chunk in css.split(f"url({fonts.ROUTE}/")[1:]:
        family, name = chunk.split(")", 1)[0].split("/")
        assert fonts.font_file(family, name) is not None, (family, name)


def test_the_font_route_serves_nothing_outside_the_fonts(tmp_path: Path) -> None:
    assert fonts.font_file("noto-sans", "../package.json") is None
    assert fonts.font_file("noto-sans", "LICENSE") is None
    assert fonts.font_file("../../..", "x.woff2") is None
    assert fonts.font_file("noto-sans", "noto-sans-latin-400-normal.woff2") is not None


def test_without_make_install_the_stylesheet_is_empty_and_the_console_still_answers(tmp_path: Path) -> None:
    assert fonts.stylesheet(tmp_path) == ""
    assert fonts.font_file("noto-sans", "noto-sans-latin-400-normal.woff2", tmp_path) is None

"""The README's settings table says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from plaudit.config import describe_settings

README = Path(__file__).parents[2] / "README.md"


def _readme_defaults() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`PLAUDIT_"):
            continue
        names = re.findall(r"`(PLAUDIT_[A-Z_]+)`", cells[0])
        defaults = re.findall(r"`([^`]*)`", cells[1]) or [""]
        if len(defaults) == 1:
            defaults = defaults * len(names)
        rows.update(zip(names, defaults, strict=True))
    return rows


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    documented = _readme_defaults()
    actual = {name: default for name, default, _ in describe_settings()}
    assert set(documented) == set(actual)
    for name, default in actual.items():
        shown = documented[name]
        if default.replace(".0", "") != shown.replace(".0", ""):
            raise AssertionError(f"{name}: README says {shown!r}, the code {default!r}")

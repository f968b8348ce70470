"""The victims' pages speak English, Spanish and Korean from gettext catalogues."""

from __future__ import annotations

from importlib import resources

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from shieldwall.web.pages import LANGUAGES, MESSAGES, choose_language

LOCALE = resources.files("shieldwall.web") / "locale"


@pytest.mark.parametrize(
    ("asked", "header", "expected"),
    [
        (None, "es-ES,es;q=0.9,en;q=0.8", "es"),
        (None, "ko-KR,ko;q=0.9", "ko"),
        (None, "fr-FR,fr;q=0.9,ko;q=0.5,es;q=0.7", "es"),
        (None, "", "en"),
        (None, "de,garbage;q=x", "en"),
        ("ko", "es", "ko"),
        ("xx", "ko", "ko"),
    ],
)
def test_the_language_comes_from_the_link_then_the_browser(
    asked: str | None, header: str, expected: str
) -> None:
    assert choose_language(asked, header) == expected


def _source_texts() -> set[str]:
    """Every text the pages mark for translation, extracted from the source as pybabel does."""
    web = str(resources.files("shieldwall.web"))
    method_map = [("pages.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = extract_from_dir(web, method_map, options, keywords={"_": None, "N_": None})
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {"en"}))
def test_every_text_is_translated(lang: str) -> None:
    with (LOCALE / lang / "LC_MESSAGES" / "shieldwall.po").open("rb") as po:
        catalogue = read_po(po)
    translated = {m.id: m.string for m in catalogue if m.id}
    texts = _source_texts()
    assert set(MESSAGES.values()) <= texts
    missing = sorted(t for t in texts if not translated.get(t))
    assert missing == []
    for source, target in translated.items():
        assert isinstance(target, str), (lang, source)  # one text each: no plural forms
        for placeholder in ("{n}", "{value}"):
            assert (placeholder in source) == (placeholder in target), (lang, source)

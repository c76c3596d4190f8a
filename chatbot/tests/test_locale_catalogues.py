"""
The translation catalogues are complete and compiled.

The compiled `.mo` files are committed (a fresh install needs no GNU gettext),
so these tests check that they say what the `.po` files say, that every text
the code marks for translation is translated in every language, and that the
widget's own tables have every text in every language.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parents[2]
LOCALE = BASE_DIR / "locale"
WIDGET_JS = BASE_DIR / "chatbot" / "static" / "chatbot" / "widget.js"
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]
SOURCE_PACKAGES = ["chatbot", "conversations", "core", "knowledge", "leads"]
MARKERS = {"gettext", "gettext_noop", "gettext_lazy", "_", "pgettext"}
TEMPLATE_TEXT_RE = re.compile(r"""{%\s*(?:translate|trans)\s+(['"])(.+?)\1""")
PYTHON_FORMAT_RE = re.compile(r"%\((\w+)\)s")


def po_entries(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy), from a .po file without plural forms or contexts."""
    entries: dict[str, tuple[str, bool]] = {}
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        lines = block.strip().splitlines()
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, list[str]] = {}
        current = None
        for line in lines:
            if line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            if keyword in ("msgid", "msgstr"):
                current = keyword
                fields[current] = [rest]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" in fields:
            msgid, msgstr = (_unquote(fields[key]) for key in ("msgid", "msgstr"))
            entries[msgid] = (msgstr, fuzzy)
    return entries


def _unquote(parts: list[str]) -> str:
    return "".join(ast.literal_eval(part) for part in parts)


def marked_texts() -> set[str]:
    """Every string literal the code marks for translation, or passes to gettext_in(language, "...")."""
    texts: set[str] = set()
    for package in SOURCE_PACKAGES:
        for path in (BASE_DIR / package).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                position = 1 if name == "gettext_in" else 0 if name in MARKERS else None
                if position is None or len(node.args) <= position:
                    continue
                argument = node.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    texts.add(argument.value)
        for path in (BASE_DIR / package).rglob("*.html"):
            texts.update(match.group(2) for match in TEMPLATE_TEXT_RE.finditer(path.read_text(encoding="utf-8")))
    return texts


def widget_tables() -> dict[str, dict[str, str]]:
    """The widget's STRINGS object: {language: {key: text}}, read from the script's source."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    body = source[source.index("var STRINGS = {") : source.index("\n  };", source.index("var STRINGS = {"))]
    tables: dict[str, dict[str, str]] = {}
    language = None
    for line in body.splitlines():
        opening = re.fullmatch(r"\s{4}(\w+): \{", line)
        entry = re.fullmatch(r"\s{6}(\w+): (.+?),?", line)
        if opening:
            language = opening.group(1)
            tables[language] = {}
        elif entry and language:
            # "Bonjour" + NBSP + "!": the literal parts are what a reader checks.
            tables[language][entry.group(1)] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', entry.group(2)))
    return tables


def test_there_is_a_catalogue_for_every_language_but_english():
    assert TRANSLATED == ["fr", "de", "es", "nl"]
    for language in TRANSLATED:
        assert (LOCALE / language / "LC_MESSAGES" / "django.po").is_file(), language
        assert (LOCALE / language / "LC_MESSAGES" / "django.mo").is_file(), language


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_in_a_catalogue_is_translated(language):
    entries = po_entries(LOCALE / language / "LC_MESSAGES" / "django.po")

    assert len(entries) > 20
    untranslated = [msgid for msgid, (msgstr, _) in entries.items() if msgid and not msgstr.strip()]
    fuzzy = [msgid for msgid, (_, is_fuzzy) in entries.items() if is_fuzzy]
    assert untranslated == [] and fuzzy == []
    for msgid, (msgstr, _) in entries.items():
        assert sorted(PYTHON_FORMAT_RE.findall(msgid)) == sorted(PYTHON_FORMAT_RE.findall(msgstr)), msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_the_code_marks_is_in_every_catalogue(language):
    entries = po_entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    texts = marked_texts()

    assert "I can't share that, but I'm happy to help with any question about our products and services." in texts
    assert "The message is empty." in texts, "texts passed to gettext_in are found too"
    assert sorted(texts - set(entries)) == [], "run `make messages` and translate the new texts"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_matches_its_source(language):
    entries = po_entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    for msgid, (msgstr, _) in entries.items():
        if msgid:
            assert compiled.gettext(msgid) == msgstr, f"{msgid!r}: run `manage.py compilemessages`"
    assert compiled.info().get("language") == language


def test_the_widget_has_every_text_in_every_language():
    tables = widget_tables()

    assert sorted(tables) == sorted(code for code, _ in settings.LANGUAGES)
    english = tables["en"]
    assert len(english) > 40
    for language, table in tables.items():
        assert sorted(table) == sorted(english), language
        for key, text in table.items():
            assert text.strip(), f"{language}.{key} is empty"
            assert sorted(re.findall(r"{(\w+)}", text)) == sorted(re.findall(r"{(\w+)}", english[key])), (
                f"{language}.{key} must keep the placeholders of the English text"
            )
        if language != "en":
            # A few words are the same in French ("Source", "Conversation"); most are not.
            same = [key for key in table if table[key] == english[key]]
            assert len(same) <= len(english) // 5, f"{language} looks untranslated: {same}"

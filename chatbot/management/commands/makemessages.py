"""
Django's makemessages, which also finds the texts passed to
`core.language.gettext_in(language, "...")` (the call that puts a fixed text
in the visitor's language), so that they need no separate gettext_noop.

    python manage.py makemessages -l fr -l de -l es -l nl   # then translate locale/*/LC_MESSAGES/django.po
    python manage.py compilemessages                         # the .mo files are committed too

Both need GNU gettext (apt-get install gettext); a fresh install does not,
because the compiled .mo files are in the repository (a test checks that they
match the .po files).
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=gettext_in:2"]

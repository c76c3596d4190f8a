"""factory_boy factories for knowledge sources (other apps' tests may use them too)."""

import factory

from knowledge.models import FAQ, Document


class FAQFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQ

    question = factory.Sequence(lambda n: f"Question number {n} about the Tidewater bikes?")
    answer = factory.Sequence(lambda n: f"Answer number {n}: the details are in the manual.")


class TextDocumentFactory(factory.django.DjangoModelFactory):
    """A pasted-text (Markdown) source."""

    class Meta:
        model = Document

    kind = Document.Kind.TEXT
    title = factory.Sequence(lambda n: f"Pasted note {n}")
    identifier = factory.Sequence(lambda n: f"text:pasted-note-{n}")
    text = "# Note\n\nSome text worth knowing."


class FileDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    kind = Document.Kind.FILE
    identifier = factory.Sequence(lambda n: f"file-{n}.md")
    content = b"# File\n\nContent of an uploaded file."
    size_bytes = factory.LazyAttribute(lambda document: len(document.content))

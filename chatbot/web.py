"""Pages for people: the demo site at /, a fictional company's home page with the widget on it; the favicon."""

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static


def demo_home(request: HttpRequest) -> HttpResponse:
    """
    The script tag is built from the request's own address, so the page shows
    (and runs) exactly the line a customer pastes into their site.
    """
    widget_src = request.build_absolute_uri(static("chatbot/widget.js"))
    snippet = f'<script src="{widget_src}" async></script>'
    return render(request, "demo/index.html", {"widget_src": widget_src, "snippet": snippet})


def favicon(request: HttpRequest) -> FileResponse:
    """/favicon.ico, which browsers ask for on every page (the admin's too) without a link to it."""
    path = finders.find("chatbot/favicon.ico")
    if path is None:
        raise Http404("no favicon")
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115 - FileResponse closes it
    response["Cache-Control"] = "public, max-age=86400"
    return response

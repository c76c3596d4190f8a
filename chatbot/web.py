"""Pages for people: the demo site at /, a fictional company's home page with the widget on it."""

from django.http import HttpRequest, HttpResponse
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

"""
One ASGI application for HTTP and WebSocket.

Django is set up before the routing import, because consumers import models.
WebSockets are capped per client address (core.connection_cap), then pass
the widget's origin check (chatbot.origins): the server's own host, the bot
settings' allowed origins and WIDGET_ALLOWED_ORIGINS.
HTTP request bodies over the size limit get a 413 before they are read
(core.security); NUL characters in URLs and headers are refused at once
(core.nulguard).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chatbot.origins import WebSocketOriginValidator  # noqa: E402
from chatbot.routing import websocket_urlpatterns  # noqa: E402
from core.connection_cap import WebSocketConnectionCap  # noqa: E402
from core.nulguard import NulRefusal  # noqa: E402
from core.security import RequestBodyLimit  # noqa: E402

application = NulRefusal(
    ProtocolTypeRouter(
        {
            # Oversized bodies are refused before Django spools them to disk.
            "http": RequestBodyLimit(django_asgi_app),
            "websocket": WebSocketConnectionCap(WebSocketOriginValidator(URLRouter(websocket_urlpatterns))),
        }
    )
)

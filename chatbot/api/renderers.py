import json
from collections.abc import Mapping

from rest_framework.renderers import BaseRenderer


class EventStreamRenderer(BaseRenderer):
    """
    Lets content negotiation accept `Accept: text/event-stream`. The chat view
    answers such requests with a StreamingHttpResponse of its own; this
    renderer only renders responses made before a stream starts (bad input,
    an unknown conversation) as one `error` event, so an SSE client always
    reads events.
    """

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict) and "code" in data and "message" in data:
            frame = {"type": "error", **data}
        else:
            frame = {"type": "error", "code": "bad_request", "message": json.dumps(data, ensure_ascii=False)}
        return sse_event(frame)


def sse_event(frame: Mapping[str, object]) -> bytes:
    """One Server-Sent Event named after the frame type, carrying the frame as JSON."""
    return f"event: {frame['type']}\ndata: {json.dumps(frame, ensure_ascii=False)}\n\n".encode()

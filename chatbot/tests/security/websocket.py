"""The check every refused WebSocket frame gets: an error frame, and the same socket still answers."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator

from chatbot.asgi import application

TIMEOUT = 10


async def frame_refused_then_answered(frame: str) -> tuple[dict, list[dict]]:
    """Sends `frame` on a new connection, then a question: the reply to each (the answer's frames in full)."""
    communicator = WebsocketCommunicator(application, "/ws/chat/")
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    try:
        await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.send_to(text_data=frame)
        reply = await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.send_json_to({"type": "message", "text": "Hello!"})
        answer = [await communicator.receive_json_from(timeout=TIMEOUT)]
        while answer[-1]["type"] not in ("done", "error"):
            answer.append(await communicator.receive_json_from(timeout=TIMEOUT))
    finally:
        await communicator.disconnect()
    return reply, answer

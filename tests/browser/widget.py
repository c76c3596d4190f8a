"""What a visitor does with the widget, as Playwright steps (locators pierce its open shadow root)."""

from __future__ import annotations

import json

HOST = "chat-assistant-widget"


class Widget:
    def __init__(self, page) -> None:
        self.page = page
        self.frames_in: list[dict] = []
        self.frames_out: list[dict] = []
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        ws.on("framereceived", lambda payload: self.frames_in.append(_json(payload)))
        ws.on("framesent", lambda payload: self.frames_out.append(_json(payload)))

    def locator(self, selector: str):
        return self.page.locator(f"{HOST} {selector}")

    @property
    def launcher(self):
        return self.locator(".launcher")

    @property
    def panel(self):
        return self.locator(".panel")

    @property
    def input(self):
        return self.locator("textarea")

    @property
    def status(self):
        return self.locator(".status")

    @property
    def answers(self):
        return self.locator(".msg.assistant:not(.greeting)")

    @property
    def finished_answers(self):
        return self.locator(".msg.assistant[data-answered]")

    @property
    def contact_form(self):
        return self.locator("form.contact")

    def open(self) -> None:
        self.launcher.click()
        self.panel.wait_for(state="visible")

    def wait_connected(self) -> None:
        self.page.wait_for_function(
            "() => { const h = document.querySelector('chat-assistant-widget');"
            " return h && h.shadowRoot.querySelector('.panel') && "
            " h.shadowRoot.querySelector('.status').hidden; }"
        )
        self.page.wait_for_function(
            "() => window.localStorage.length > 0 && Object.keys(window.localStorage)"
            ".some(k => k.endsWith(':conversation'))"
        )

    def ask(self, text: str) -> None:
        """Types the question and waits for the answer's `done`."""
        before = self.finished_answers.count()
        self.input.fill(text)
        self.input.press("Enter")
        self.finished_answers.nth(before).wait_for(state="attached", timeout=30_000)

    def last_answer(self):
        return self.answers.last

    def conversation_id(self) -> str | None:
        return self.page.evaluate(
            "() => { for (const k of Object.keys(localStorage)) if (k.endsWith(':conversation'))"
            " return localStorage.getItem(k); return null; }"
        )

    def shadow_count(self, selector: str) -> int:
        return self.page.evaluate(
            "(sel) => document.querySelector('chat-assistant-widget').shadowRoot.querySelectorAll(sel).length",
            selector,
        )

    def record_answer_lengths(self) -> None:
        """Keeps the length of the newest answer's text at every DOM change: proof of streaming."""
        self.page.evaluate(
            """() => {
              const root = document.querySelector('chat-assistant-widget').shadowRoot;
              window.__answerLengths = [];
              window.__sawTyping = false;
              new MutationObserver(() => {
                if (root.querySelector('.typing')) window.__sawTyping = true;
                const bubbles = root.querySelectorAll('.msg.assistant:not(.greeting) .bubble');
                const last = bubbles[bubbles.length - 1];
                if (last) window.__answerLengths.push(last.textContent.length);
              }).observe(root, {subtree: true, childList: true, characterData: true});
            }"""
        )

    def answer_lengths(self) -> list[int]:
        return self.page.evaluate("() => window.__answerLengths || []")

    def saw_typing_indicator(self) -> bool:
        return self.page.evaluate("() => window.__sawTyping === true")

    def message_kinds(self) -> list[str]:
        """What the conversation shows, top to bottom: greeting, visitor, answer, contact (form) or thanks."""
        return self.page.evaluate(
            "() => [...document.querySelector('chat-assistant-widget').shadowRoot.querySelector('.messages')"
            ".children].map(n => ['thanks', 'contact', 'visitor', 'greeting'].find(c => n.classList.contains(c))"
            " || 'answer')"
        )

    def frames(self, kind: str) -> list[dict]:
        return [frame for frame in self.frames_in if frame.get("type") == kind]


def _json(payload) -> dict:
    try:
        value = json.loads(payload)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}

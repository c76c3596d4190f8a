"""
The widget in headless Chromium: what it costs a page and how fast it renders.

- `widget.js` size, raw and gzipped (what a visitor downloads once).
- Time from the script's response to the launcher being on the page.
- Streaming: the widget re-renders the answer's Markdown on every token (simple
  and safe: no HTML string is ever built). A loopback peer (tests/browser/fake_bot.py)
  pushes a long Markdown answer as fast as it can, in 4-character tokens; the
  figure is tokens rendered per second, from the first token on screen to the
  finished answer. A language model streams 30-100 tokens per second.

    python -m bench.widget_render [--rounds 5] [--tokens 600] [--json]

Needs Debian's chromium (`make chromium`). Medians over rounds. This machine
has 2 cores shared with other work, so absolute numbers are noisy; the peer is
Python on the same cores, so the streaming figure is a lower bound.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import Figure, run_save, run_start  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.fake_bot import FakeBot, FakeBotServer, ScriptedAnswer  # noqa: E402

WIDGET_JS = ROOT / "chatbot" / "static" / "chatbot" / "widget.js"
PARAGRAPH = (
    "The **Commuter 2** has a 500 Wh battery with a range of 40-70 miles [1]. "
    "It charges in 4.5 hours; see [the charging guide](/kb/sources/3/) for details.\n\n"
    "- fenders and a rear rack are included\n- frame sizes S, M and L [2]\n\n"
)

TRACK = """
(() => {
  window.__bench = {};
  new MutationObserver(() => {
    const host = document.querySelector('chat-assistant-widget');
    if (host && !window.__bench.mounted) window.__bench.mounted = performance.now();
  }).observe(document, {childList: true, subtree: true});
})();
"""

WATCH_ANSWER = """
() => { window.__answer = new Promise((resolve) => {
  const root = document.querySelector('chat-assistant-widget').shadowRoot;
  let first = null;
  const observer = new MutationObserver(() => {
    const msg = root.querySelector('.msg.assistant:not(.greeting)');
    if (!msg) return;
    if (first === null && msg.querySelector('.bubble').textContent.length) first = performance.now();
    if (msg.hasAttribute('data-answered')) {
      observer.disconnect();
      resolve({first, done: performance.now(), chars: msg.querySelector('.bubble').textContent.length});
    }
  });
  observer.observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
}); }
"""


def sizes() -> dict[str, int]:
    raw = WIDGET_JS.read_bytes()
    return {"widget_js_bytes": len(raw), "widget_js_gzip_bytes": len(gzip.compress(raw, compresslevel=9))}


def run(rounds: int, tokens: int) -> dict:
    from playwright.sync_api import sync_playwright

    text = (PARAGRAPH * (tokens * 4 // len(PARAGRAPH) + 1))[: tokens * 4]
    mount_ms, rates = [], []
    bot = FakeBot()
    bot.answers["long?"] = ScriptedAnswer(text=text, chunk=4, delay=0.0)
    with FakeBotServer(bot), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(rounds):
                context = browser.new_context()
                page = context.new_page()
                page.add_init_script(TRACK)
                page.goto(bot.url)
                page.wait_for_function("() => window.__bench.mounted")
                script = page.evaluate(
                    "() => performance.getEntriesByType('resource').find(e => e.name.endsWith('widget.js')).responseEnd"
                )
                mount_ms.append(page.evaluate("() => window.__bench.mounted") - script)
                page.locator("chat-assistant-widget .launcher").click()
                page.wait_for_function("() => Object.keys(localStorage).some(k => k.endsWith(':conversation'))")
                page.evaluate(WATCH_ANSWER)
                page.locator("chat-assistant-widget textarea").fill("long?")
                page.locator("chat-assistant-widget textarea").press("Enter")
                result = page.evaluate("() => window.__answer")
                seconds = (result["done"] - result["first"]) / 1000
                rates.append((tokens - 1) / seconds if seconds > 0 else float("inf"))
                context.close()
        finally:
            browser.close()
    return {
        **sizes(),
        "rounds": rounds,
        "answer_tokens": tokens,
        "answer_chars": len(text),
        "mount_ms_p50": round(statistics.median(mount_ms), 1),
        "stream_tokens_per_s_p50": round(statistics.median(rates)),
        "stream_tokens_per_s_min": round(min(rates)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=600, help="answer length in 4-character tokens")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    bench_run = run_start(benchmark="widget_render", area="Widget and limits")
    figures = run(args.rounds, args.tokens)
    run_save(
        run=bench_run,
        figures=figures,
        headline=[
            Figure(
                "`widget.js` size", f"{figures['widget_js_bytes']:,} bytes, {figures['widget_js_gzip_bytes']:,} gzipped"
            ),
            Figure(
                "Script loaded until the launcher is on the page (headless Chromium)",
                f"{figures['mount_ms_p50']} ms (median of {figures['rounds']})",
            ),
            Figure(
                f"Streamed answer of {figures['answer_tokens']} tokens rendered",
                f"{figures['stream_tokens_per_s_p50']:,} tokens/s "
                f"(slowest round {figures['stream_tokens_per_s_min']:,})",
            ),
        ],
    )
    if args.json:
        print(json.dumps(figures))
        return
    print(f"widget.js: {figures['widget_js_bytes']:,} bytes, {figures['widget_js_gzip_bytes']:,} gzipped")
    print(f"script loaded -> launcher on the page: {figures['mount_ms_p50']} ms (median of {args.rounds})")
    print(
        f"streamed answer of {args.tokens} tokens ({figures['answer_chars']:,} chars): "
        f"{figures['stream_tokens_per_s_p50']:,} tokens/s rendered (median; slowest round "
        f"{figures['stream_tokens_per_s_min']:,})"
    )


if __name__ == "__main__":
    main()

"""The web page in headless Chromium (Debian's ``chromium``, driven by Playwright): pick a model,
type text, see the output. Under CI a missing Chromium fails these tests; ``make test`` installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serve_helpers import running, specs_for

from seqlab.serve import ServeSettings

CHROMIUM = os.environ.get("SEQLAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    """A fresh page; the test fails on any console error (a blocked script or style, a missing
    asset), except the failed API calls a test provokes and then forgets (``forget_http_errors``)."""
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(30_000)
    tab.console_errors = errors
    yield tab
    context.close()
    assert not errors, errors


def forget_http_errors(page, status: int) -> None:
    """Drop the console lines of the failed requests (status ``status``) a test provoked on purpose."""
    mark = f"status of {status} "
    page.console_errors[:] = [e for e in page.console_errors if mark not in e]


def open_model(page, url: str, name: str) -> None:
    page.goto(url + "/")
    page.wait_for_selector(f"#model option[value='{name}']", state="attached")
    page.select_option("#model", name)


def test_classifier_label_and_attention_weights_appear(page, server):
    open_model(page, server.url, "classifier")
    page.fill("#input", "the soup was hot")
    page.click("#run")
    page.wait_for_selector("#attention-tokens .tok")
    tokens = page.locator("#attention-tokens .tok")
    assert tokens.all_inner_texts() == ["the", "soup", "was", "hot"]
    weights = [float(tokens.nth(i).get_attribute("data-weight")) for i in range(tokens.count())]
    assert sum(weights) == pytest.approx(1.0, abs=1e-4)
    assert page.inner_text("#classification-result h2").startswith("Label: ")
    assert page.locator("#classification-result .bar").count() == 3


def test_language_model_next_token_distribution_appears(page, server):
    open_model(page, server.url, "lm")
    page.fill("#input", "the cat")
    page.fill("#top-k", "5")
    page.click("#run")
    page.wait_for_selector("#next-result .bar")
    assert page.locator("#next-result .bar").count() == 5
    page.click("#generate")
    page.wait_for_selector("#generation-result pre")
    assert page.inner_text("#generation-result pre").startswith("the cat")


def test_tagger_tags_appear(page, server):
    open_model(page, server.url, "tagger")
    page.fill("#input", "Anna flew to Paris .")
    page.click("#run")
    page.wait_for_selector("#tag-result .tagged")
    assert page.locator("#tag-result .tagged").count() == 5


def test_errors_are_shown_not_thrown(page, server):
    open_model(page, server.url, "classifier")
    page.fill("#input", "   ")
    page.click("#run")
    page.wait_for_selector("#status.error")
    assert "empty input" in page.inner_text("#status")
    forget_http_errors(page, 422)


def test_the_page_sends_the_token_the_user_types(page, runs):
    token = "page-token-1234"
    with running(specs_for({"classifier": runs["classifier"]}), ServeSettings(token=token)) as srv:
        page.goto(srv.url + "/")
        page.wait_for_selector("#status.error")  # /models refused without the token
        page.fill("#token", token)
        page.dispatch_event("#token", "change")
        page.wait_for_selector("#model option[value='classifier']", state="attached")
        page.fill("#input", "the team won")
        page.click("#run")
        page.wait_for_selector("#attention-tokens .tok")
        forget_http_errors(page, 401)


def test_translation_and_its_attention_heatmap_appear(page, s2s_server, tmp_path):
    open_model(page, s2s_server.url, "s2s")
    page.fill("#input", "a b c d")
    page.fill("#beam-size", "3")
    page.fill("#n-best", "2")
    page.click("#run")
    page.wait_for_selector("#heatmap rect.cell")
    expected = httpx.post(
        s2s_server.url + "/models/s2s/translate",
        json={"text": "a b c d", "beam_size": 3, "n_best": 2, "return_attention": True},
    ).json()["results"][0]
    assert page.inner_text("#translation") == expected["text"]
    assert page.locator("ol.nbest li").count() == 2
    rows, cols = len(expected["attention"]), len(expected["source_tokens"])
    assert page.locator("#heatmap rect.cell").count() == rows * cols
    assert page.locator("#heatmap text.source-token").all_text_contents() == ["a", "b", "c", "d"]
    targets = page.locator("#heatmap text.target-token").all_text_contents()
    assert targets[: len(expected["tokens"])] == expected["tokens"]
    first = page.locator("#heatmap rect.cell").first
    assert float(first.get_attribute("data-weight")) == pytest.approx(expected["attention"][0][0], abs=1e-6)
    page.screenshot(path=str(tmp_path / "translation.png"), full_page=True)
    assert (tmp_path / "translation.png").stat().st_size > 1000


def test_chat_mode_keeps_the_conversation_and_new_chat_forgets_it(page, s2s_server):
    open_model(page, s2s_server.url, "s2s")
    page.fill("#beam-size", "2")

    def answer(turns: list[str]) -> str:
        body = {"turns": turns, "beam_size": 2}
        return httpx.post(s2s_server.url + "/models/s2s/chat", json=body).json()["text"]

    page.fill("#input", "a b c")
    page.click("#chat")
    page.wait_for_selector("#chat-log li.bot")
    first = answer(["a b c"])
    assert page.locator("#chat-log li").all_inner_texts() == ["a b c", first]
    assert page.input_value("#input") == ""
    page.fill("#input", "d e")
    page.click("#chat")
    page.wait_for_selector("#chat-log li.bot >> nth=1")
    assert page.locator("#chat-log li.bot").nth(1).inner_text() == answer(["a b c", first, "d e"])
    page.click("#chat-reset")
    assert page.locator("#chat-log li").count() == 0
    page.fill("#input", "d e")
    page.click("#chat")
    page.wait_for_selector("#chat-log li.bot")
    assert page.locator("#chat-log li").all_inner_texts() == ["d e", answer(["d e"])]


def test_chat_is_offered_only_to_models_that_chat(page, server):
    open_model(page, server.url, "classifier")
    assert page.locator("#chat").is_hidden()
    open_model(page, server.url, "lm")
    assert page.locator("#chat").is_visible() and page.locator("#chat-reset").is_visible()

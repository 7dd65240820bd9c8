"""HTML pages of predictions (nlpkit.pages and the tasks' page modules): render() through the
API, `--format html` through the shell, and what a real browser (headless Chromium) draws."""

import os
import re
import shutil
import subprocess

import pytest

from nlpkit.pages import colour, esc
from nlpkit.tasks.ner.page import ner_page

from .conftest import ROOT
from .conftest import nlpkit as shell

HOSTILE = '<script>document.title="owned"</script> & "Greta Sato" <b>bold</b>'


def records(page: str, css_class: str = "rec") -> int:
    return len(re.findall(rf'<div class="{css_class}" id="r\d+">', page))


def test_user_text_is_escaped_and_every_record_has_its_block():
    found = [
        {"text": HOSTILE, "entities": [{"type": "PER", "start": 54, "end": 64, "text": "Greta Sato", "score": 0.9}]},
        {"text": "", "entities": []},
        {"text": "Northwick <3", "entities": [{"type": "B<AD>", "start": 0, "end": 9, "text": "Northwick"}]},
    ]
    page = "".join(ner_page(found, ["PER", "B<AD>"], "m.nlpk"))
    assert page.count("<script>") == 0 and "&lt;script&gt;" in page
    assert records(page) == 3 and page.count('class="ent"') == 2
    assert 'data-type="B&lt;AD&gt;"' in page and "<AD>" not in page  # an odd type name is text too
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "http" not in page  # nothing fetched from anywhere
    assert colour("PER") == colour("per") and colour("NEWTYPE") == colour("NEWTYPE") != colour("OTHER")
    assert esc('"<&>') == "&quot;&lt;&amp;&gt;"


def test_render_through_the_api(ner_model, sentiment_model, translate_model):
    _, ner = ner_model
    page = ner.render(["Greta Sato sailed from Gull Point to Northwick .", HOSTILE, ""])
    assert records(page) == 3 and "&lt;script&gt;" in page and "<script>" not in page
    assert all(f">{t}</mark>" in page for t in ner.entity_types)  # the legend lists every type the model knows
    _, sentiment = sentiment_model
    page = sentiment.render(["the rooms were lovely", HOSTILE])
    assert page.count("<tr data-n=") == 2 and 'data-key="prob"' in page and "&lt;script&gt;" in page
    assert page.count("<script>") == 1  # the sorting aid, and no other
    _, translate = translate_model
    page = translate.render(["the proud weaver walks .", ""])
    assert records(page) == 2 and page.count('<table class="heat">') == 1  # an empty line has no attention


def test_html_from_the_shell_one_block_per_input_line(tmp_path, ner_model, sentiment_model, translate_model):
    lines = "Greta Sato sailed to Northwick .\n" + HOSTILE + "\n\nthe end\n"
    ner = shell("ner", "tag", ner_model[0], "--format", "html", input=lines, check=True).stdout
    assert records(ner) == 4 and "<script>" not in ner
    sentiment = shell("sentiment", "predict", sentiment_model[0], "--format", "html", input=lines, check=True).stdout
    assert sentiment.count("<tr data-n=") == 4 and sentiment.count("<script>") == 1
    translated = shell("translate", "predict", translate_model[0], "--format", "html", input=lines, check=True).stdout
    assert records(translated) == 4 and '<table class="heat">' in translated
    bad = shell("ner", "tag", ner_model[0], "--format", "pdf", input="x\n")
    assert bad.returncode != 0 and "pdf" in bad.stderr and "Traceback" not in bad.stderr


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def browser(*args, timeout=120):
    if BROWSER is None:
        pytest.skip("no headless Chromium installed (.ci/run installs one: apt-get install chromium)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    return subprocess.run([BROWSER, *flags, *args], capture_output=True, timeout=timeout)


def test_a_browser_shows_the_marks_and_the_escaped_text_as_text(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    found = [
        {"text": "Greta Sato sailed to Northwick.", "entities": [
            {"type": "PER", "start": 0, "end": 10, "text": "Greta Sato"},
            {"type": "LOC", "start": 21, "end": 30, "text": "Northwick"}]},
        {"text": HOSTILE, "entities": []},
    ]  # fmt: skip
    page = tmp_path / "entities.html"
    page.write_text("".join(ner_page(found, ["LOC", "PER"])), encoding="utf-8")
    dom = browser("--dump-dom", page.as_uri()).stdout.decode("utf-8")
    assert "<script" not in dom and "&lt;script&gt;" in dom  # the browser parsed no script: it shows text
    assert dom.count('class="ent"') == 2
    shot = tmp_path / "entities.png"
    browser(f"--screenshot={shot}", "--window-size=900,400", page.as_uri())
    pixels = Image.open(shot).convert("RGB")
    seen = {rgb for _, rgb in pixels.getcolors(maxcolors=1 << 24)}
    for kind in ("PER", "LOC"):  # each type's colour is drawn (in the legend and the marks)
        rgb = tuple(int(colour(kind)[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in seen, f"{kind}'s colour {colour(kind)} is not on the screenshot"
    assert pixels.getpixel((5, 5)) == (255, 255, 255)
    if os.environ.get("NLPKIT_DOCS_SHOTS") == "1":  # how docs/img/ner-page.png is made
        shutil.copyfile(shot, ROOT / "docs" / "img" / "ner-page.png")

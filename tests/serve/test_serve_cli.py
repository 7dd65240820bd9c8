"""`nlpkit serve` end to end in its own process: started from the shell, answered over real HTTP
by many clients at once, stopped by SIGTERM with the requests in flight answered; a port in use
and a model that cannot load are one line before anything listens."""

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ROOT
from tests.conftest import nlpkit as shell

pytestmark = pytest.mark.extras  # needs nlpkit[serve]; CI runs these again with it blocked


def start(*args):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlpkit", "serve", *map(str, args), "--port", "0", "--device", "cpu"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    for line in proc.stderr:
        found = re.search(r"on http://127\.0\.0\.1:(\d+);", line)
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}"
    proc.kill()
    pytest.fail(f"the server did not start: {proc.stderr.read()}")


def without_scores(records: list) -> list:
    """Records less the entity scores, whose last digits depend on the texts batched together."""
    return [{**r, "entities": [{k: v for k, v in e.items() if k != "score"} for e in r["entities"]]} for r in records]


def post(url: str, texts) -> tuple[int, object]:
    request = urllib.request.Request(url, json.dumps(texts).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_many_clients_are_answered_in_order_then_sigterm_stops_it(ner_model, sentiment_model):
    proc, base = start(f"tagger={ner_model[0]}", sentiment_model[0], "--log-format", "json", "--read-timeout", "1")
    try:
        texts = [[f"Greta Sato number {k} sailed to Northwick .", f"line {k}"] for k in range(40)]
        expected = [[ner_model[1].record(r) for r in ner_model[1].predict(t)] for t in texts]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda t: post(f"{base}/v1/tagger", t), texts))
        assert [status for status, _ in answers] == [200] * 40
        for (_, got), want in zip(answers, expected, strict=True):  # every request its own records, in order
            assert without_scores(got) == without_scores(want)
        status, found = post(f"{base}/v1/sentiment", ["fine", "dull", ""])
        assert status == 200 and len(found) == 3 and set(found[0]) == {"label", "prob"}
        assert post(f"{base}/v1/nope", ["x"])[0] == 404
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:  # promises 100 bytes, sends 3
            slow.sendall(b'POST /v1/tagger HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n["a')
            assert slow.recv(4096).startswith(b"HTTP/1.1 408")
        assert post(f"{base}/v1/tagger", ["still serving"])[0] == 200
        with urllib.request.urlopen(f"{base}/v1/models", timeout=30) as answer:
            names = [m["name"] for m in json.loads(answer.read())["models"]]
        assert names == ["tagger", sentiment_model[0].stem]
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        proc.wait(timeout=60)
    assert proc.returncode == 0 and "stopped" in rest
    logged = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    assert len([r for r in logged if r["path"] == "/v1/tagger" and r["status"] == 200]) == 41


def test_a_port_in_use_and_a_bad_model_are_one_line(tmp_path, ner_model):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        busy = shell("serve", ner_model[0], "--port", port, fresh=True)
        assert busy.returncode == 1 and busy.stderr.count("\n") == 1 and "cannot listen" in busy.stderr
    finally:
        taken.close()
    junk = tmp_path / "junk.nlpk"
    junk.write_bytes(b"not a model at all")
    bad = shell("serve", junk, "--port", "0", fresh=True)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "junk.nlpk" in bad.stderr
    twice = shell("serve", f"a={ner_model[0]}", f"a={ner_model[0]}", "--port", "0", fresh=True)
    assert twice.returncode == 1 and "two models named 'a'" in twice.stderr and "Traceback" not in twice.stderr

"""nlpkit serve's application (nlpkit.serve.app) through Starlette's test client: answers equal
the predict commands' records, in order; each bad request gets its status and a one-line JSON
error; batching gathers concurrent requests; a full queue answers 503."""

import asyncio
import json

import pytest

from nlpkit.serve.batching import Batcher, Busy
from nlpkit.serve.options import ServeOptions

pytestmark = pytest.mark.extras  # needs nlpkit[serve]; CI runs these again with it blocked


@pytest.fixture
def client(ner_model, sentiment_model):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from nlpkit.serve.app import Served, make_app

    o = ServeOptions.create({"models": ["x"], "max_texts": 50, "max_text_chars": 2000, "max_request_bytes": 20_000})
    served = {
        "ner": Served("ner", str(ner_model[0]), ner_model[1], {"task": "ner"}, o),
        "sst": Served("sst", str(sentiment_model[0]), sentiment_model[1], {"task": "sentiment"}, o),
    }
    lines = []
    with TestClient(make_app(served, o, lines.append)) as test_client:
        test_client.log = lines
        yield test_client


TEXTS = ["Greta Sato sailed from Gull Point to Northwick .", "", "The Salt Guild opened an office in Saltmere ."]


def test_answers_are_the_predict_records_in_order(client, ner_model, sentiment_model):
    model = ner_model[1]
    expected = [model.record(r) for r in model.predict(TEXTS)]
    assert client.post("/v1/ner", json=TEXTS).json() == expected
    assert client.post("/v1/ner", json={"texts": TEXTS}).json() == expected
    assert client.post("/v1/ner", json=[t.split() for t in TEXTS]).status_code == 200  # token lists, for a tagger
    s = sentiment_model[1]
    assert client.post("/v1/sentiment", json=TEXTS).json() == [s.record(r) for r in s.predict(TEXTS)]  # by task
    assert client.post("/v1/sst", json=[]).json() == []
    assert client.get("/health").json() == {"status": "ok", "models": ["ner", "sst"]}
    listed = client.get("/v1/models").json()["models"]
    assert [m["name"] for m in listed] == ["ner", "sst"] and listed[0]["task"] == "ner"
    assert {"method": "POST", "path": "/v1/ner", "status": 200, "texts": 3}.items() <= client.log[0].items()


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe[]", 400, "not UTF-8"),
        (b"[" * 100_00 + b"]" * 100_00, 400, "nested too deeply"),
        (b'{"text": ["a"]}', 400, "unknown field 'text'"),
        (b'"just a string"', 400, "expected a JSON list"),
        (b'["fine", 3]', 400, "item 1: expected a text or a list of token strings, got int"),
        (b'["\\ud800"]', 400, "lone surrogate"),
        (json.dumps(["x"] * 51).encode(), 413, "51 texts in one request; at most 50"),
        (json.dumps(["x" * 2001]).encode(), 413, "2,001 characters"),
        (json.dumps(["x" * 30_000]).encode(), 413, "at most 20,000"),
    ],
)
def test_bad_requests_get_their_status_and_one_line(client, body, status, message):
    answer = client.post("/v1/ner", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status and message in answer.json()["error"]
    assert "\n" not in answer.json()["error"]
    assert client.post("/v1/ner", json=["still serving"]).status_code == 200


def test_unknown_models_and_routes_are_404_in_json(client):
    answer = client.post("/v1/nope", json=["x"])
    assert (
        answer.status_code == 404
        and "no model 'nope'" in answer.json()["error"]
        and "ner, sst" in answer.json()["error"]
    )
    assert client.get("/v2/x").status_code == 404 and "no such route" in client.get("/v2/x").json()["error"]
    assert client.get("/v1/ner").status_code == 405


def test_concurrent_requests_share_batches_and_a_full_queue_is_503():
    async def scenario():
        calls = []

        def predict(items):
            calls.append(list(items))
            return [f"answer {item}" for item in items]

        batcher = Batcher(predict, queue_limit=6, batch_tokens=100, max_wait_s=0.05)
        batcher.start()
        futures = [batcher.submit([f"{k}a", f"{k}b"], 4) for k in range(3)]
        with pytest.raises(Busy):
            batcher.submit(["one too many"], 2)  # 6 texts wait: the seventh is refused, not queued
        cancelled = futures[1]
        cancelled.cancel()  # its client went away before the batch formed
        done = await asyncio.gather(futures[0], futures[2])
        await batcher.stop()
        return calls, done

    calls, done = asyncio.run(scenario())
    assert calls == [["0a", "0b", "2a", "2b"]]  # one batch, the gone client's texts dropped
    assert done == [["answer 0a", "answer 0b"], ["answer 2a", "answer 2b"]]


class Flaky:
    """A model whose first batch fails (out of memory, say), the next ones not."""

    name = "sentiment"

    def __init__(self):
        self.calls = 0

    def predict(self, items):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("out of memory\nwith details")
        return [{"label": "pos", "prob": 1.0} for _ in items]

    @staticmethod
    def record(result):
        return result


def test_a_failing_batch_answers_500_in_one_line_and_the_server_goes_on():
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from nlpkit.serve.app import Served, make_app

    o = ServeOptions.create({"models": ["x"]})
    served = {"flaky": Served("flaky", "flaky.nlpk", Flaky(), {}, o)}
    with TestClient(make_app(served, o)) as test_client:
        first = test_client.post("/v1/flaky", json=["a"])
        assert first.status_code == 500 and first.json() == {"error": "RuntimeError: out of memory"}
        assert test_client.post("/v1/flaky", json=["a", "b"]).json() == [{"label": "pos", "prob": 1.0}] * 2

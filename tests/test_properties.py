"""Property tests (hypothesis): every predict command gives exactly one record per input
record, in input order, whatever Unicode the lines hold, through the Python API and the CLI."""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Any character but a line end and the surrogates UTF-8 cannot encode; lines may be empty.
LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=40)
LINES = st.lists(LINE, min_size=1, max_size=12)
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

PREDICTORS = {  # fixture, CLI command, the result field that echoes the input (if any)
    "lm_model": (["lm", "score"], None),
    "sentiment_model": (["sentiment", "predict"], None),
    "ner_model": (["ner", "tag"], "text"),
    "translate_model": (["translate", "predict", "--beam", "2", "--max-length-ratio", "0.5"], "source"),
}


@pytest.mark.parametrize("fixture", PREDICTORS)
def test_api_predict_gives_one_result_per_input_in_order(request, fixture):
    _, model = request.getfixturevalue(fixture)
    echo = PREDICTORS[fixture][1]

    @SETTINGS
    @given(LINES)
    def check(lines):
        results = list(model.predict(lines))
        assert len(results) == len(lines)
        if echo:
            assert [r[echo] for r in results] == lines

    check()


@pytest.mark.parametrize("fixture", PREDICTORS)
def test_cli_predict_gives_one_output_line_per_input_line(request, cli, fixture):
    path, _ = request.getfixturevalue(fixture)
    command, echo = PREDICTORS[fixture]

    @SETTINGS
    @given(LINES)
    def check(lines):
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder) / "in.txt"
            data.write_bytes("".join(f"{line}\n" for line in lines).encode("utf-8"))
            code, out, err = cli(*command[:2], path, data, *command[2:], "--quiet")
        assert code == 0, err
        records = out.splitlines()  # splits at every character any reader takes as a line end
        assert len(records) == len(lines)
        if echo == "text":  # the text as read back: a final CR is a CRLF line end, a first BOM a BOM
            read = [line.removesuffix("\r") for line in lines]
            read[0] = read[0].removeprefix("\ufeff")
            assert [json.loads(r)["text"] for r in records] == read

    check()

"""Writes the bad-input corpus in this folder (run once; the files are committed):
python tests/badinput/make_corpus.py. Each file's problem is listed in README.md."""

import gzip
from pathlib import Path

HERE = Path(__file__).parent
FILES = {
    # any line reader
    "invalid-utf8.txt": b"a fine line\nanother\nbad byte \xff here\nlast\n",
    "not-gzip.txt.gz": b"plain text under a .gz name\n",
    "truncated.txt.gz": gzip.compress(b"".join(b"line %d of a long text\n" % i for i in range(2000)))[:300],
    # labeled data (sentiment)
    "unclosed-quote.csv": b'text,label\n"good movie,pos\nbad movie,neg\nfine,pos\n',
    "missing-label.tsv": b"text\tlabel\ngood\tpos\nno label here\nbad\tneg\n",
    "label-not-text.jsonl": b'{"text": "good", "label": "pos"}\n{"text": "bad", "label": ["neg"]}\n',
    "broken-json.jsonl": b'{"text": "good", "label": "pos"}\n{"text": "bad", "label": \n',
    # tagged data (ner)
    "ragged.conll": b"Mara\tB-PER\nsailed\n",
    "bad-tag.conll": b"Mara\tO\nLund\tX-PER\n",
    "tokens-tags-differ.jsonl": b'{"tokens": ["Mara", "sailed"], "tags": ["B-PER"]}\n',
    "i-after-o.conll": b"Mara\tB-PER\nsailed\tO\n\nto\tO\nPort\tI-LOC\nArden\tI-LOC\n",
    # text that must be read as it is, one record a line
    "bom-crlf.txt": "\ufefffirst line\r\nsecond line\r\n\r\nfourth line\r\n".encode(),
    "control-characters.txt": "a\u2028b\nc\x1cd\ne\rf\ng\x00h\n\n\u202eright-to-left\n".encode(),
    # parallel data (translate): 3 source lines, 2 target lines
    "three-lines.en": b"a dog runs\na cat sleeps\na bird sings\n",
    "two-lines.fr": b"un chien court\nun chat dort\n",
}

if __name__ == "__main__":
    for name, content in FILES.items():
        (HERE / name).write_bytes(content)

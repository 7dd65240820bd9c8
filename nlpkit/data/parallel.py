"""Parallel text (translation pairs): two line-aligned files, TSV pair files, JSONL records and
`datasets` sources.

JSONL records and dataset rows hold the pair either as two fields (`--src-field/--tgt-field`)
or as the hub's translation layout, {"translation": {"de": ..., "en": ...}}, picked by
language code (`--src-lang/--tgt-lang`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nlpkit.data.readers import display_name, iter_json_objects, iter_lines, load_dataset
from nlpkit.errors import NlpkitError, option


@dataclass
class Pairs:
    src: list[str] = field(default_factory=list)
    tgt: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.src)


@dataclass
class Fields:
    src_field: str = "src"
    tgt_field: str = "tgt"
    src_lang: str | None = None
    tgt_lang: str | None = None

    def pick(self, record: dict, where: str) -> tuple[str, str]:
        if "translation" in record and isinstance(record["translation"], dict) and self.src_field not in record:
            pair = record["translation"]
            if not (self.src_lang and self.tgt_lang):
                langs = ", ".join(sorted(pair))
                raise NlpkitError(
                    f"{where}: translation record ({langs}): give {option('src_lang')} and {option('tgt_lang')}"
                )
            names, source = (self.src_lang, self.tgt_lang), pair
        else:
            names, source = (self.src_field, self.tgt_field), record
        values = []
        for name in names:
            if name not in source:
                raise NlpkitError(
                    f"{where}: no field {name!r} (see {option('src_field')}/{option('tgt_field')} or {option('src_lang')}/{option('tgt_lang')})"
                )
            value = source[name]
            if not isinstance(value, str):
                raise NlpkitError(f"{where}: field {name!r} is not text")
            values.append(value.replace("\n", " "))
        return values[0], values[1]


def read_aligned(src_path: str, tgt_path: str, encoding_errors: str = "strict") -> Pairs:
    """Two files, one sentence a line, line i of one translating line i of the other."""
    src = list(iter_lines(src_path, encoding_errors))
    tgt = list(iter_lines(tgt_path, encoding_errors))
    if len(src) != len(tgt):
        raise NlpkitError(
            f"{display_name(src_path)} has {len(src):,} lines but {display_name(tgt_path)} has {len(tgt):,}: "
            "parallel files must be line-aligned"
        )
    return Pairs(src, tgt)


def pair_format(path: str, input_format: str = "auto") -> str:
    if input_format != "auto":
        return input_format
    return "jsonl" if path.endswith((".jsonl", ".jsonl.gz", ".json")) else "tsv"


def read_pairs(path: str, fields: Fields, input_format: str = "auto", encoding_errors: str = "strict") -> Pairs:
    """A pair file: TSV lines `source<TAB>target`, or JSONL records."""
    pairs = Pairs()
    if pair_format(path, input_format) == "jsonl":
        for where, record in iter_json_objects(path, encoding_errors, "a source and a target"):
            s, t = fields.pick(record, where)
            pairs.src.append(s)
            pairs.tgt.append(t)
        return pairs
    name = display_name(path)
    for line_no, line in enumerate(iter_lines(path, encoding_errors), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise NlpkitError(f"{name}:{line_no}: expected 'source<TAB>target', found {len(parts)} column(s)")
        pairs.src.append(parts[0])
        pairs.tgt.append(parts[1])
    return pairs


def dataset_pairs(source: str, split: str, fields: Fields, config: str | None = None) -> Pairs:
    data = load_dataset(source, split, config)
    pairs = Pairs()
    for row, record in enumerate(data):
        s, t = fields.pick(record, f"dataset {source!r} row {row}")
        pairs.src.append(s)
        pairs.tgt.append(t)
    return pairs


def read_parallel(pair_files, src, tgt, *, input_format="auto", fields=None, encoding_errors="strict", what="data"):
    """Sentence pairs from line-aligned source and target files, or from pair files (TSV/JSONL)."""
    if src or tgt:
        if not (src and tgt):
            raise NlpkitError(f"{what}: give both the source and the target file")
        if pair_files:
            raise NlpkitError(f"{what}: give either pair files or a source and a target file, not both")
        return read_aligned(src, tgt, encoding_errors), [src, tgt]
    pairs = Pairs()
    for path in pair_files:
        more = read_pairs(path, fields or Fields(), input_format, encoding_errors)
        pairs.src.extend(more.src)
        pairs.tgt.extend(more.tgt)
    return pairs, list(pair_files)

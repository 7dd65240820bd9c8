"""Writes the small corpora in data/ (original text made by this project, not copied).

    python data/make_samples.py

sentiment.{train,valid}.tsv are short reviews of the same town's inns, ferries and shops, each
labelled pos or neg (a header line, then label<TAB>text); some turn on a negation ("not bad at
all"), so word counts alone do not settle every label.

ner.{train,valid}.conll tag the town's people (PER), places (LOC) and organisations (ORG) in
IOB2, one token and its tag a line, a blank line after each sentence.

translate.{train,valid}.{en,fr} are line-aligned English and French sentences about the same
town's people and places, built from one small bilingual grammar: French puts most adjectives
after the noun and agrees them in gender, and contracts "de le" to "du", so a translation model
has to reorder and look back, which shows in its attention plots.

sample.txt is a chronicle of an invented harbour town, generated from a small grammar with a
fixed seed: varied enough that a character model has something to learn in a minute of
training, regular enough that what it learns shows in its samples.
"""

import random
from pathlib import Path

NAMES = ["Mara", "Tobin", "Elsa", "Corwin", "Ida", "Jonas", "Petra", "Anselm", "Liv", "Oskar", "Greta", "Silas"]
TRADES = [
    "baker",
    "ferryman",
    "net mender",
    "lamplighter",
    "clerk",
    "smith",
    "weaver",
    "pilot",
    "cooper",
    "schoolteacher",
]
PLACES = [
    "the harbour",
    "the market",
    "the old mill",
    "the lighthouse",
    "the chapel steps",
    "the salt sheds",
    "the north quay",
    "the bridge",
    "the library",
    "the orchard above the town",
]
TIMES = [
    "At dawn",
    "Before noon",
    "In the evening",
    "Late that night",
    "On the first day of spring",
    "When the tide turned",
    "After the storm",
    "On market day",
    "In the grey hour before rain",
]
WEATHER = [
    "the wind came in from the sea",
    "a thin rain fell on the roofs",
    "the fog lay low over the water",
    "the sun stood bright above the hills",
    "the bells rang across the bay",
    "the gulls cried over the boats",
]
VERBS = [
    "walked to",
    "waited at",
    "sang near",
    "argued at",
    "counted the crates at",
    "swept the stones of",
    "lit a lamp at",
    "read a letter at",
    "mended a sail at",
    "sold apples at",
]
THINGS = [
    "a basket of bread",
    "an old brass key",
    "a letter sealed with wax",
    "a lantern",
    "a crate of herrings",
    "a blue coat",
    "a map of the coast",
    "a jar of honey",
    "a broken oar",
    "a bundle of rope",
]
FEELINGS = ["glad", "tired", "curious", "worried", "quiet", "restless", "hopeful", "cold"]
SAYINGS = [
    "The sea keeps its own accounts.",
    "A full net is a heavy net.",
    "Bread first, then quarrels.",
    "Every harbour is somebody's road home.",
    "Rope remembers every knot.",
    "Rain is only the sky mending.",
]


def sentence(rng: random.Random) -> str:
    name, other = rng.sample(NAMES, 2)
    kind = rng.randrange(7)
    if kind == 0:
        return f"{rng.choice(TIMES)}, {rng.choice(WEATHER)}, and {name} the {rng.choice(TRADES)} {rng.choice(VERBS)} {rng.choice(PLACES)}."
    if kind == 1:
        return f"{name} gave {other} {rng.choice(THINGS)} and said nothing more about it."
    if kind == 2:
        return f'"{rng.choice(SAYINGS)}" said {name}, and {other} laughed.'
    if kind == 3:
        return f"{name} was {rng.choice(FEELINGS)}, for {rng.choice(WEATHER)} and {other} had not come back from {rng.choice(PLACES)}."
    if kind == 4:
        return f"The {rng.choice(TRADES)} found {rng.choice(THINGS)} at {rng.choice(PLACES)} and carried it to {name}."
    if kind == 5:
        return f"{rng.choice(TIMES)}, {name} and {other} {rng.choice(VERBS)} {rng.choice(PLACES)} together."
    return f"Nobody in the town knew why {name} kept {rng.choice(THINGS)} by the window."


def chronicle(lines: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    while len(out) < lines:
        out.extend(sentence(rng) for _ in range(rng.randint(1, 3)))
        out.append("")  # paragraphs
    return out[:lines]


PLACES_REVIEWED = [
    "the Anchor Inn",
    "the night ferry",
    "the harbour bakery",
    "the salt-shed tavern",
    "the lighthouse tour",
    "the market stalls",
    "the north quay cafe",
    "the chapel concert",
]
GOOD = ["warm", "friendly", "delicious", "charming", "spotless", "generous", "lovely", "cheerful"]
BAD = ["cold", "rude", "stale", "dreary", "filthy", "overpriced", "noisy", "gloomy"]
ASPECTS = ["the service", "the bread", "the rooms", "the view", "the music", "the prices", "the staff", "the coffee"]


def review(rng: random.Random) -> tuple[str, str]:
    positive = rng.random() < 0.5
    place, aspect = rng.choice(PLACES_REVIEWED), rng.choice(ASPECTS)
    good, bad = rng.choice(GOOD), rng.choice(BAD)
    kind = rng.randrange(5)
    if kind == 0:
        text = f"{aspect.capitalize()} at {place} was {good if positive else bad}."
    elif kind == 1:  # a negated word of the other polarity
        text = f"{aspect.capitalize()} at {place} was not {bad if positive else good} at all."
    elif kind == 2:
        text = (
            f"I would {'gladly' if positive else 'never'} go back to {place}; {aspect} was {good if positive else bad}."
        )
    elif kind == 3:  # the verdict comes after a contrast
        first, last = (bad, good) if positive else (good, bad)
        text = f"{aspect.capitalize()} seemed {first} at first, but in the end {place} was {last}."
    else:
        text = f"{rng.choice(NAMES)} found {place} {good if positive else bad} and {rng.choice(GOOD) if positive else rng.choice(BAD)}."
    return ("pos" if positive else "neg"), text


SURNAMES = ["Lund", "Hale", "Brandt", "Okafor", "Varga", "Moreau", "Sato", "Eriksen"]
TOWNS = ["Kestrel Bay", "Port Arden", "Saltmere", "Gull Point", "Northwick", "Hollow Ford"]
ORGS = ["the Harbour Trust", "the Salt Guild", "the Ferry Company", "the Lamplighters' Union", "Arden Mills"]


def _tokens(text: str, tag: str) -> list[tuple[str, str]]:
    words = text.split()
    kind = tag
    return [(w, ("B-" if i == 0 else "I-") + kind) for i, w in enumerate(words)]


def ner_sentence(rng: random.Random) -> list[tuple[str, str]]:
    """One sentence as (token, IOB2 tag) pairs: people, places and organisations of the town."""
    person = _tokens(f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}" if rng.random() < 0.6 else rng.choice(NAMES), "PER")
    place, other = [_tokens(t, "LOC") for t in rng.sample(TOWNS, 2)]
    org_text = rng.choice(ORGS)
    article = [("the", "O")] if org_text.startswith("the ") else []
    org = article + _tokens(org_text.removeprefix("the "), "ORG")
    plain = lambda text: [(w, "O") for w in text.split()]  # noqa: E731
    kind = rng.randrange(4)
    if kind == 0:
        words = person + plain("sailed from") + place + plain("to") + other
    elif kind == 1:
        words = org + plain("opened a new office in") + place
    elif kind == 2:
        words = person + plain("joined") + org + plain("last") + [(rng.choice(["spring", "winter"]), "O")]
    else:
        words = (
            plain(f"{rng.choice(TIMES)} ,".replace(" ,", ""))
            + [(",", "O")]
            + person
            + plain("met")
            + org
            + plain("in")
            + place
        )
    return words + [(".", "O")]


def ner_corpus(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join("".join(f"{w}\t{t}\n" for w, t in ner_sentence(rng)) + "\n" for _ in range(count))


def reviews(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return "label\ttext\n" + "".join(f"{label}\t{text}\n" for label, text in (review(rng) for _ in range(count)))


# English word -> (French word, gender) for nouns; adjectives: English -> (masculine, feminine).
PEOPLE = {
    "baker": ("boulanger", "m"),
    "ferryman": ("passeur", "m"),
    "weaver": ("tisserande", "f"),
    "pilot": ("pilote", "m"),
    "teacher": ("institutrice", "f"),
    "clerk": ("greffier", "m"),
    "fisherwoman": ("pêcheuse", "f"),
    "dog": ("chien", "m"),
    "cat": ("chatte", "f"),
    "smith": ("forgeron", "m"),
}
SITES = {
    "market": ("marché", "m"),
    "harbour": ("port", "m"),
    "mill": ("moulin", "m"),
    "lighthouse": ("phare", "m"),
    "chapel": ("chapelle", "f"),
    "bridge": ("pont", "m"),
    "library": ("bibliothèque", "f"),
    "orchard": ("verger", "m"),
    "school": ("école", "f"),
    "tower": ("tour", "f"),
}
ADJECTIVES = {
    "tired": ("fatigué", "fatiguée"),
    "happy": ("heureux", "heureuse"),
    "quiet": ("silencieux", "silencieuse"),
    "proud": ("fier", "fière"),
    "green": ("vert", "verte"),
    "grey": ("gris", "grise"),
    "cold": ("froid", "froide"),
    "busy": ("occupé", "occupée"),
}
# English verb phrase -> (French verb, French preposition before the place's article)
MOTIONS = {
    "walks to": ("marche vers", ""),
    "runs to": ("court vers", ""),
    "looks at": ("regarde", ""),
    "waits near": ("attend près", "de"),
    "sings in": ("chante dans", ""),
    "sleeps behind": ("dort derrière", ""),
    "comes back from": ("revient", "de"),
}
WHEN = {
    "every day": "chaque jour",
    "in the morning": "le matin",
    "at night": "la nuit",
    "in winter": "en hiver",
    "after the rain": "après la pluie",
    "": "",
}


def noun_phrase(rng: random.Random, nouns: dict, definite: bool, de: bool = False) -> tuple[str, str]:
    en_noun = rng.choice(sorted(nouns))
    fr_noun, gender = nouns[en_noun]
    adjective = rng.choice(sorted(ADJECTIVES)) if rng.random() < 0.5 else ""
    en = ("the " if definite else "a ") + (adjective + " " if adjective else "") + en_noun
    if definite:
        if fr_noun[0] in "aeiouéèh":
            article = "de l'" if de else "l'"
        elif de:
            article = "de la" if gender == "f" else "du"
        else:
            article = "la" if gender == "f" else "le"
    else:
        article = ("d'une" if gender == "f" else "d'un") if de else ("une" if gender == "f" else "un")
    fr_adj = ADJECTIVES[adjective][gender == "f"] if adjective else ""
    fr = f"{article}{'' if article.endswith(chr(39)) else ' '}{fr_noun}" + (f" {fr_adj}" if fr_adj else "")
    return en, fr


def parallel_sentence(rng: random.Random) -> tuple[str, str]:
    en_subject, fr_subject = noun_phrase(rng, PEOPLE, definite=rng.random() < 0.7)
    motion = rng.choice(sorted(MOTIONS))
    fr_verb, prep = MOTIONS[motion]
    en_place, fr_place = noun_phrase(rng, SITES, definite=rng.random() < 0.8, de=prep == "de")
    when = rng.choice(sorted(WHEN))
    en = f"{en_subject} {motion} {en_place}" + (f" {when}" if when else "") + " ."
    fr = f"{fr_subject} {fr_verb} {fr_place}" + (f" {WHEN[when]}" if when else "") + " ."
    return en[0].upper() + en[1:], fr[0].upper() + fr[1:]


def parallel(count: int, seed: int) -> tuple[str, str]:
    rng = random.Random(seed)
    pairs = [parallel_sentence(rng) for _ in range(count)]
    return "".join(e + "\n" for e, _ in pairs), "".join(f + "\n" for _, f in pairs)


if __name__ == "__main__":
    here = Path(__file__).parent
    (here / "sample.txt").write_text("\n".join(chronicle(3000, seed=7)) + "\n", encoding="utf-8")
    (here / "sample.valid.txt").write_text("\n".join(chronicle(300, seed=8)) + "\n", encoding="utf-8")
    (here / "sentiment.train.tsv").write_text(reviews(1200, seed=11), encoding="utf-8")
    (here / "sentiment.valid.tsv").write_text(reviews(200, seed=12), encoding="utf-8")
    (here / "ner.train.conll").write_text(ner_corpus(600, seed=21), encoding="utf-8")
    (here / "ner.valid.conll").write_text(ner_corpus(100, seed=22), encoding="utf-8")
    for split, count, seed in (("train", 2000, 31), ("valid", 200, 32)):
        en, fr = parallel(count, seed)
        (here / f"translate.{split}.en").write_text(en, encoding="utf-8")
        (here / f"translate.{split}.fr").write_text(fr, encoding="utf-8")

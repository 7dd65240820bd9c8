from nlpkit.text.words import split_words


def test_combining_marks_stay_with_their_letters():
    assert split_words("cafe\u0301 au lait") == [("cafe\u0301", 0, 5), ("au", 6, 8), ("lait", 9, 13)]
    assert [w for w, _, _ in split_words("नमस्ते दुनिया")] == ["नमस्ते", "दुनिया"]


def test_punctuation_and_inner_marks():
    words = [w for w, _, _ in split_words("Mr. O'Neil's U.S. trip (state-of-the-art)!")]
    assert words == ["Mr", ".", "O'Neil's", "U.S", ".", "trip", "(", "state-of-the-art", ")", "!"]

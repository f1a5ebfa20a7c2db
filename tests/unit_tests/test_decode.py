"""Bodies: Content-Encoding undone in bounded steps, read within limits."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from langchain_gptoss import GptOssResponseTooLargeError
from langchain_gptoss._decode import (
    STEP,
    BodyDecodingError,
    BodyLimit,
    Decoder,
    response_limit,
)

DATA = os.urandom(100_000) + b"\0" * 3_000_000 + b"the end"


def decode(encoding: str, blob: bytes, piece: int) -> list[bytes]:
    decoder = Decoder(encoding)
    out = [
        part
        for start in range(0, len(blob), piece)
        for part in decoder.feed(blob[start : start + piece])
    ]
    decoder.finish()
    return out


@pytest.mark.parametrize(
    ("encoding", "blob"),
    [
        ("gzip", gzip.compress(DATA)),
        ("x-gzip", gzip.compress(DATA)),
        ("deflate", zlib.compress(DATA)),
        ("deflate", zlib.compress(DATA)[2:-4]),  # raw deflate, as some servers send
        ("gzip, gzip", gzip.compress(gzip.compress(DATA))),
        ("identity, gzip", gzip.compress(DATA)),
    ],
    ids=["gzip", "x-gzip", "zlib-deflate", "raw-deflate", "gzip-twice", "identity"],
)
@pytest.mark.parametrize("piece", [1, 4096, 1 << 20])
def test_decodes_exactly_in_bounded_steps(
    encoding: str, blob: bytes, piece: int
) -> None:
    if piece == 1 and len(blob) > 20_000:
        blob_pieces = 7919  # single bytes through 3 MB would only cost time
        piece = blob_pieces
    out = decode(encoding, blob, piece)
    assert b"".join(out) == DATA
    assert max(map(len, out)) <= STEP


def test_a_bomb_never_yields_more_than_a_step_at_once() -> None:
    bomb = gzip.compress(gzip.compress(b"\0" * (64 << 20)))
    decoder = Decoder("gzip, gzip")
    biggest = 0
    for part in decoder.feed(bomb):
        biggest = max(biggest, len(part))
        break  # the caller stops at its limit; one step is all it ever holds
    assert 0 < biggest <= STEP


@pytest.mark.parametrize(
    ("encoding", "blob", "says"),
    [
        ("gzip", b"this is not gzip at all", "not valid gzip"),
        ("gzip", gzip.compress(DATA)[:5000], "ended before"),
        ("br", b"whatever", "'br'"),
        ("zstd, gzip", b"", "'zstd'"),
    ],
)
def test_bad_or_unknown_encodings_are_refused(
    encoding: str, blob: bytes, says: str
) -> None:
    with pytest.raises(BodyDecodingError, match=says):
        decode(encoding, blob, 4096)


def test_body_limit_raises_past_the_limit_naming_the_setting() -> None:
    limit = BodyLimit(10, "max_response_bytes")
    assert limit.add(b"0123456789")  # exactly the limit is fine
    with pytest.raises(GptOssResponseTooLargeError) as info:
        limit.add(b"x")
    assert info.value.setting == "max_response_bytes"
    assert info.value.limit == 10
    assert info.value.is_retryable is False
    assert "max_response_bytes=10" in str(info.value)


def test_a_truncating_limit_keeps_the_start() -> None:
    limit = BodyLimit(10, "max_error_body_bytes", truncate=True)
    assert limit.add(b"01234")
    assert not limit.add(b"56789abc")
    assert limit.content() == b"0123456789"


def test_the_default_response_limit_grows_with_what_the_request_asks_for() -> None:
    plain = response_limit({})
    assert plain == 131_072 * 128  # a whole context at 128 bytes a token
    assert response_limit({"n": 3}) == 3 * plain
    assert response_limit({"logprobs": True, "top_logprobs": 20}) == 22 * plain
    assert response_limit({"prompt_logprobs": 5}) == 7 * plain
    assert response_limit({"n": "junk", "top_logprobs": None}) == plain

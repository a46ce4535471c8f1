"""Database URLs that C drivers would misread are refused before any connection."""

from __future__ import annotations

import pytest

from ixp import db
from ixp.errors import ValidationError


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://ixp:pw-000%0D%00@127.0.0.1:5432/ixp",  # found by hypothesis
        "postgresql+psycopg://ix%00p@127.0.0.1/ixp",
        "postgresql+psycopg://ixp@127.0.0.1/ixp%00",
    ],
)
def test_nul_anywhere_in_the_url_is_one_validation_error(url: str) -> None:
    with pytest.raises(ValidationError, match=r"database_url: .* NUL character") as caught:
        db.make_engine(url)
    assert "pw-000" not in str(caught.value)

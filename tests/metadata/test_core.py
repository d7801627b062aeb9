"""The core metadata reader: any real PKG-INFO/METADATA parses, nothing is re-serialised."""

from __future__ import annotations

import contextlib
import email.errors
import importlib.metadata
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from crosspin.errors import MetadataError
from crosspin.metadata import DistMetadata
from crosspin.metadata._core import parse_core_metadata
from fixtures.sdists import docopt_description, pkg_info

EXAMPLES = int(os.environ.get("CROSSPIN_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _docopt() -> bytes:
    return pkg_info("docopt", "0.6.2", "1.1", requires=["six>=1.0"],
                    description_header=docopt_description())


def test_the_email_round_trip_that_crashed_is_gone(tmp_path: Path) -> None:
    """docopt 0.6.2's metadata, read as build.util did and serialised again, raises; the
    reader reads it."""
    info = tmp_path / "docopt-0.6.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(_docopt())
    message = importlib.metadata.PathDistribution(info).metadata
    with pytest.raises(email.errors.HeaderParseError):
        message.as_string()  # type: ignore[attr-defined]
    fields = parse_core_metadata(_docopt())
    assert (fields.name, fields.version, fields.requires_dist) == ("docopt", "0.6.2",
                                                                   ("six>=1.0",))


def test_header_lookalikes_inside_a_folded_description_are_not_fields() -> None:
    """'Requires-Dist: x' on a continuation line of Description is description text."""
    meta = DistMetadata.from_bytes(_docopt(), source="docopt-0.6.2.tar.gz")
    assert [str(r) for r in meta.requires_dist] == ["six>=1.0"]


def test_the_body_is_never_read() -> None:
    """Requires-Dist lines in the description body do not count (headers end at a blank line)."""
    data = pkg_info("a", "1.0", requires=["b"], body="Requires-Dist: evil\n\nText\n")
    assert parse_core_metadata(data).requires_dist == ("b",)


def test_crlf_bom_and_latin1_bytes() -> None:
    """CRLF line ends, a BOM and a Latin-1 author: the fields come out as written."""
    data = b"\xef\xbb\xbf" + ("Metadata-Version: 2.1\r\nName: cafe\r\nVersion: 1.0\r\n"
                             "Author: Jos\xe9\r\nRequires-Dist: b>=1\r\n\r\nbody"
                             ).encode("latin-1")
    fields = parse_core_metadata(data)
    assert (fields.metadata_version, fields.name, fields.version) == ("2.1", "cafe", "1.0")
    assert fields.requires_dist == ("b>=1",)


def test_folded_values_are_unfolded() -> None:
    """A Requires-Dist folded over two lines is one requirement."""
    data = b"Name: a\nVersion: 1\nRequires-Dist: b\n  >=2 ; python_version < '3.10'\n"
    meta = DistMetadata.from_bytes(data, source="a")
    assert [str(r) for r in meta.requires_dist] == ['b>=2; python_version < "3.10"']


def test_dynamic_and_metadata_version_are_kept() -> None:
    """PEP 643's fields: what the sdist path needs to trust PKG-INFO."""
    fields = parse_core_metadata(pkg_info("a", "1", "2.2", dynamic=["Requires-Dist"]))
    assert (fields.metadata_version, fields.dynamic) == ("2.2", ("Requires-Dist",))


def test_a_bad_requirement_is_a_structured_error() -> None:
    """The error names the project, the version and the file, and says why in one line."""
    data = pkg_info("graphene", "2.1.5", requires=["aniso8601 (<=6.0.*,>=3)"])
    with pytest.raises(MetadataError) as caught:
        DistMetadata.from_bytes(data, source="graphene-2.1.5-py3-none-any.whl",
                                name="graphene", version=Version("2.1.5"))
    error = caught.value
    assert (error.package, error.version, error.file) == (
        "graphene", "2.1.5", "graphene-2.1.5-py3-none-any.whl")
    assert "\n" not in error.reason
    assert str(error).startswith(
        "bad metadata for graphene 2.1.5 (graphene-2.1.5-py3-none-any.whl): "
        "invalid Requires-Dist 'aniso8601 (<=6.0.*,>=3)'")


_LINES = st.lists(st.one_of(
    st.sampled_from(["Requires-Dist: b", "Usage: x", "  Options: -h", "\tWord: y", "=====", "",
                     " ", "Name: other", "Dynamic: Requires-Dist", "Requires-Python: >=3",
                     "Requires-Dist: ((((((((((((((((((((((((((((a", "Version: not a version",
                     ": no name", "Provides-Extra: t\u00e9st"]),
    st.text(max_size=40),
), max_size=12)


@FUZZ
@given(lines=_LINES, raw=st.binary(max_size=120), folded=st.booleans())
def test_any_header_value_parses_or_gives_a_metadata_error(
    lines: list[str], raw: bytes, folded: bool
) -> None:
    """Any Description (embedded 'Word: ' lines, bytes that are not UTF-8): never a traceback."""
    joint = "\n        " if folded else "\n"
    head = b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\nDescription: "
    data = head + joint.join(lines).encode("utf-8", "surrogatepass") + raw + b"\nRequires-Dist: b\n"
    fields = parse_core_metadata(data)
    assert fields.name is not None
    try:
        DistMetadata.from_bytes(data, source="a-1.0.tar.gz")
    except MetadataError as exc:
        assert "\n" not in exc.message


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_parse_without_an_exception(data: bytes) -> None:
    """The reader itself never raises, whatever the bytes."""
    parse_core_metadata(data)
    with contextlib.suppress(MetadataError):
        DistMetadata.from_bytes(data, source="x")

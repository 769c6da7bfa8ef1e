"""Render writes as it goes: nothing half-written on failure, nothing written when current,
the same stale report as the in-memory form, and the fast paths byte-identical to json."""

from __future__ import annotations

import json
import math
import random

import pytest
from grafanalib._gen import DashboardEncoder

from generator.project import Project
from generator.errors import DashgenError
from generator.loader import load
from generator.normalize import dumps
from generator.render import check_stream, plain, stale_files, write_stream
from generator.safenames import UnsafeName


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _seed(out):
    (out / "a").mkdir(parents=True)
    (out / "a" / "one.json").write_bytes(b"1")
    (out / "two.json").write_bytes(b"2")
    (out / "old.json").write_bytes(b"old")


def test_a_failure_part_way_leaves_the_output_as_it_was(tmp_path):
    out = tmp_path / "rendered"
    _seed(out)
    before = _tree(out)

    def items():
        yield "a/one.json", b"changed"
        yield "two.json", b"2"
        raise DashgenError("dashboards/x.py: build(cfg) failed")

    with pytest.raises(DashgenError):
        write_stream(items(), out)
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rendered"]  # no staging folder left

    def unsafe():
        yield "a/one.json", b"changed"
        yield "../escape.json", b"x"

    with pytest.raises(UnsafeName):
        write_stream(unsafe(), out)
    assert _tree(out) == before and not (tmp_path / "escape.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rendered"]


def test_nothing_is_written_while_every_file_matches(tmp_path):
    out = tmp_path / "rendered"
    _seed(out)
    inode = (out / "two.json").stat().st_ino
    assert write_stream(iter([("a/one.json", b"1"), ("two.json", b"2"), ("old.json", b"old")]), out) == (3, [])
    assert (out / "two.json").stat().st_ino == inode


def test_changes_removals_and_late_differences_are_swapped_in_whole(tmp_path):
    out = tmp_path / "rendered"
    _seed(out)
    files = [("a/one.json", b"1"), ("two.json", b"2"), ("new/three.json", b"3")]
    assert check_stream(iter(files), out) == (3, stale_files(dict(files), out))
    assert write_stream(iter(files), out) == (3, ["new/three.json", "old.json"])
    assert _tree(out) == dict(files)  # the matching files before the first difference were kept
    assert write_stream(iter(files[:2]), out) == (2, ["new/three.json"])  # a removal only
    assert _tree(out) == dict(files[:2])
    with pytest.raises(DashgenError, match="twice"):
        write_stream(iter([("x", b"1"), ("x", b"2")]), out)
    assert _tree(out) == dict(files[:2])


def test_check_stream_names_what_is_stale(tmp_path):
    out = tmp_path / "rendered"
    _seed(out)
    count, stale = check_stream(iter([("a/one.json", b"1"), ("two.json", b"changed"), ("new.json", b"n")]), out)
    assert count == 3
    assert stale == [("new.json", "missing"), ("old.json", "no longer produced"), ("two.json", "differs")]


def _random_json(rng, depth=0):
    kinds = ["str", "int", "float", "none", "bool"] + (["list", "dict"] * 2 if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice('ab"\\\n\t\x00\u2028é한 /<>') for _ in range(rng.randint(0, 6)))
    if kind == "int":
        return rng.choice([0, -1, 7, 10**20])
    if kind == "float":
        return rng.choice([0.5, -0.0, 1e-300, 1e300, 3.0, math.nan, math.inf, -math.inf, 0.1 + 0.2])
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {f"k{rng.randint(0, 9)}{rng.choice('aé')}": _random_json(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def test_dumps_is_exactly_json_dumps():
    rng = random.Random(21)
    for _ in range(500):
        doc = {"d": _random_json(rng), "l": [_random_json(rng)]}
        assert dumps(doc) == json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    mixed = {1: "a", "b": (1, 2)}  # keys json converts, tuples: left to json itself
    with pytest.raises(TypeError):
        json.dumps(mixed, sort_keys=True)
    with pytest.raises(TypeError):
        dumps(mixed)


def test_plain_is_the_json_round_trip_of_grafanalib_objects(root):
    loaded = load(root, Project(root).config)
    assert loaded.dashboards
    for _rel, dash in loaded.dashboards:
        data = dash.to_json_data()
        assert plain(data) == json.loads(json.dumps(data, cls=DashboardEncoder))
        text = json.dumps(plain(data), sort_keys=True)
        assert text == json.dumps(json.loads(json.dumps(data, cls=DashboardEncoder)), sort_keys=True)
    odd = {1: (1, 2), True: None, None: 1.5, 2.5: "x", "s": [float("nan")]}
    assert json.dumps(plain(odd)) == json.dumps(json.loads(json.dumps(odd)))

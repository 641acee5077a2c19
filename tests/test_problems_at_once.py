"""A bad scenario is refused once, with every problem of the file, its variants and every layer listed.

Each test writes a scenario with mistakes in independent places (the schema, the cross-references,
the campaign CSV, the pools, the variants, the logo), runs the real command line once and checks
that the run exits 2 and names every planted mistake at its location.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from optimizer.cli import EXIT_INPUT, EXIT_OK, run

CAMPAIGN = """
[[campaigns]]
name = "Search: brand"
channel = "search"
stage = "conversion"
pools = ["search"]
spend = { max = 40_000 }
impressions = { curve = "exponential", max = 60_000, scale = 8_000 }
leads = { rate = 0.01, of = "impressions" }
"""


def _validate(capsys, path: Path, *args: str) -> list[str]:
    """The problem lines of one ``tradeoff validate`` run, after checking it refused the file."""
    code = run(["validate", str(path), *args])
    out, err = capsys.readouterr()
    assert code == EXIT_INPUT, out + err
    assert "Traceback" not in err and out == ""
    return [line[4:] for line in err.splitlines() if line.startswith("  - ")]


def _reported(lines: list[str], location: str, *fragments: str) -> bool:
    """Whether a line is located at ``location`` and says every fragment."""
    return any(line.startswith(f"{location}: ") and all(f in line for f in fragments) for line in lines)


def _png(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk (with its CRC) for an image of ``width`` x ``height``: no pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return b"\x89PNG\r\n\x1a\n" + chunk


def _tiny_png() -> bytes:
    """A complete 1 x 1 PNG (one grey pixel)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
            + chunk(b"IEND", b""))


def test_a_pool_with_a_bad_share_of_market_still_exists_and_lists_every_problem(tmp_path, capsys):
    path = tmp_path / "pool.toml"
    path.write_text('name = "pool"\n[budget]\ntotal = 100_000\n'
                    "[pools.search]\ntotal_impressions = 1_000_000\ncompetitor_impressions = 900_000\nsom = 2\n"
                    + CAMPAIGN
                    + '[[constraints]]\nname = "SOV floor"\nkpi = "sov.search"\nmin = 30\n'
                    + '[[constraints]]\nname = "SOV typo"\nkpi = "sov.serch"\nmin = 0.2\n')
    lines = _validate(capsys, path)
    assert _reported(lines, "pools.search.som", "2", "fraction"), lines
    assert _reported(lines, "pools.search", "exactly one", "competitor_impressions, total_impressions"), lines
    # the pool exists for the constraints that name it: the floor's own mistake is found ...
    assert _reported(lines, 'constraints[0] "SOV floor": min', "30", "share of voice"), lines
    # ... and the misspelt pool is told of the pool that is there, not that there are none
    assert _reported(lines, 'constraints[1] "SOV typo": kpi', 'pool "serch" is not defined', 'did you mean "search"')
    assert not any("no pools yet" in line for line in lines), lines
    assert len(lines) == 4, lines


def test_every_variant_is_checked_although_one_is_malformed_and_the_file_has_problems(tmp_path, capsys):
    path = tmp_path / "variants.toml"
    path.write_text('name = "variants"\n[budget]\ntotal = "lots"\n'
                    "[pools.search]\ncompetitor_impressions = 900_000\n" + CAMPAIGN
                    + "[variants]\nbroken = 5\n"
                    + '[variants.stretch]\n"budget.total" = -5\n'
                    + '[variants.wide]\n"budget..total" = 3\n\'campaigns."Search: brand".spend.max\' = "a lot"\n')
    lines = _validate(capsys, path)
    assert _reported(lines, "budget.total", "expected a number", '"lots"'), lines
    assert _reported(lines, "variants.broken", "expected a table"), lines
    assert _reported(lines, 'variant "stretch": budget.total', "negative", "-5"), lines
    # a key of a variant that cannot be read does not hide the variant's other settings
    assert _reported(lines, 'variant "wide": variants.wide', "empty part"), lines
    assert _reported(lines, 'variant "wide": campaigns[0] "Search: brand": spend.max', '"a lot"'), lines
    assert len(lines) == 5, lines


def test_the_variants_of_a_valid_file_are_all_reported_in_one_run(tmp_path, capsys):
    path = tmp_path / "variants_only.toml"
    path.write_text('name = "variants"\n[budget]\ntotal = 100_000\n'
                    "[pools.search]\ncompetitor_impressions = 900_000\n" + CAMPAIGN
                    + '[variants.stretch]\n"budget.total" = -5\n'
                    + '[variants.wide]\n"budget..total" = 3\n\'campaigns."Search: brand".spend.max\' = "a lot"\n')
    lines = _validate(capsys, path)
    assert _reported(lines, 'variant "stretch": budget.total', "-5"), lines
    assert _reported(lines, 'variant "wide": variants.wide', "empty part"), lines
    assert _reported(lines, 'variant "wide": campaigns[0] "Search: brand": spend.max', '"a lot"'), lines
    assert len(lines) == 3, lines


BIG_CSV = """name,channel,stage,spend.min,spend.max,leads.curve,leads.unit_cost,mqls.rate,mqls.of
Meta,social,conversion,0,abc,linear,60,0.3,leads
LinkedIn,social,conversion,0,30000,linear,xyz,0.4,leads
Search: brand,search,conversion,-100,20000,linear,50,0.3,sqls
Search: brand,search,conversion,0,20000,linear,50,0.3,leads
"""

BIG_TOML = """name = "big"
campaigns = "big.csv"

[budget]
totl = 100_000
max_change = "0.5"

[pools.search]
total_impressions = 1_000_000
competitor_impressions = 900_000
som = 2

[[constraints]]
name = "SOV floor"
kpi = "sov.serch"
min = 0.2

[[constraints]]
name = "CPL cap"
kpi = "cpl"
max = -10

[report]
logo = "huge.png"

[variants]
broken = 5

[variants.stretch]
"budget.total" = -5

[variants.wide]
"budget..total" = 3
"campaigns.LinkedIn.spend.max" = "lots"
"""


def test_a_larger_file_with_mistakes_in_every_layer_needs_one_round_of_fixes(tmp_path, capsys):
    (tmp_path / "big.csv").write_text(BIG_CSV)
    (tmp_path / "huge.png").write_bytes(_png(20_000, 20_000))
    path = tmp_path / "big.toml"
    path.write_text(BIG_TOML)
    lines = _validate(capsys, path)
    expected = [
        # the schema
        ("budget.totl", 'unknown key "totl"', 'did you mean "total"'),
        ("budget.max_change", "expected a number", '"0.5"'),
        ('big.csv line 4 "Search: brand": spend.min', "negative", "-100"),
        ('constraints[1] "CPL cap": max', "cpl must be positive", "-10"),
        # the campaign CSV's cells
        ('big.csv line 2 "Meta": spend.max', '"abc"'),
        ('big.csv line 3 "LinkedIn": leads.unit_cost', '"xyz"'),
        # cross-references
        ('constraints[0] "SOV floor": kpi', 'pool "serch" is not defined', 'did you mean "search"'),
        ('big.csv line 4 "Search: brand": mqls.of', '"sqls"', "does not define"),
        ('big.csv line 5 "Search: brand"', "used by 2 campaigns"),
        # the pool, with both of its problems
        ("pools.search.som", "fraction"),
        ("pools.search", "exactly one", "competitor_impressions, total_impressions"),
        # the logo
        ("report.logo", "huge.png", "20,000 x 20,000"),
        # the variants
        ("variants.broken", "expected a table"),
        ('variant "stretch": budget.total', "negative", "-5"),
        ('variant "wide": variants.wide', "empty part"),
        ('variant "wide": big.csv line 3 "LinkedIn": spend.max', '"lots"'),
    ]
    missing = [item for item in expected if not _reported(lines, *item)]
    assert not missing, f"not reported: {missing}\nreported:\n" + "\n".join(lines)
    assert len(lines) == len(expected), "\n".join(lines)


def test_a_campaign_file_that_cannot_be_found_does_not_hide_the_rest_of_the_file(tmp_path, capsys):
    path = tmp_path / "missing.toml"
    path.write_text(BIG_TOML.replace('campaigns = "big.csv"', 'campaigns = "bgi.csv"').replace("[report]\n", "")
                    .replace('logo = "huge.png"\n', ""))
    (tmp_path / "big.csv").write_text(BIG_CSV)
    lines = _validate(capsys, path)
    assert _reported(lines, "campaigns", '"bgi.csv" not found', 'did you mean "big.csv"'), lines
    for location in ("budget.totl", "budget.max_change", "pools.search", "pools.search.som", "variants.broken",
                     'variant "stretch": budget.total'):
        assert _reported(lines, location), (location, lines)
    assert not any(line.startswith("campaigns: ") and "required" in line for line in lines), lines


def test_a_logo_whose_header_says_it_is_too_large_or_not_an_image_is_refused_at_load(tmp_path, capsys):
    (tmp_path / "huge.png").write_bytes(_png(20_000, 20_000))
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "tiny.png").write_bytes(_tiny_png())
    base = 'name = "logo"\n[budget]\ntotal = 100_000\n[pools.search]\ncompetitor_impressions = 900_000\n' + CAMPAIGN
    for logo, fragments in (("huge.png", ("20,000 x 20,000", "at most 25,000,000 pixels")),
                            ("text.png", ("not a PNG or JPEG",))):
        path = tmp_path / f"{logo}.toml"
        path.write_text(base.replace("total = 100_000", "total = -1") + f'[report]\nlogo = "{logo}"\n')
        lines = _validate(capsys, path)
        assert _reported(lines, "report.logo", logo, *fragments), lines
        assert _reported(lines, "budget.total", "negative"), lines  # with every other problem
        assert len(lines) == 2, lines
    path = tmp_path / "tiny.toml"
    path.write_text(base + '[report]\nlogo = "tiny.png"\n')
    assert run(["validate", str(path)]) == EXIT_OK, capsys.readouterr().err

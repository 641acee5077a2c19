"""``tradeoff fit`` as a strategist runs it: the example history in, a campaign CSV that
``tradeoff solve`` accepts as it is; bad rows and bad --map values refused with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.cli import EXIT_INPUT, EXIT_OK, run
from optimizer.pareto import Frontier
from optimizer.pareto.text import frontier_table

SCENARIOS = Path(__file__).parent.parent / "scenarios"
FIXTURES = Path(__file__).parent / "fit_exports"


def tradeoff(capsys, *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_example_history_fits_to_a_campaign_csv_that_solve_accepts_as_it_is(capsys, tmp_path):
    campaigns = tmp_path / "campaigns.csv"
    code, _, err = tradeoff(capsys, "fit", str(SCENARIOS / "history_example.csv"), "-o", str(campaigns))
    assert code == EXIT_OK, err
    assert "3 campaigns fitted" in err and "of impressions (95%:" in err
    code, out, err = tradeoff(capsys, "solve", str(SCENARIOS / "history_example.toml"), "--campaigns", str(campaigns))
    assert code == EXIT_OK, err
    assert "Optimal plan" in out and "Search: non-brand" in out


def test_an_export_read_by_its_platform_spellings_fits_to_the_terminal(capsys):
    code, out, err = tradeoff(capsys, "fit", str(FIXTURES / "meta_ads.csv"))
    assert code == EXIT_OK, err
    assert "(Meta Ads Manager)" in err
    assert out.startswith("name,channel,stage,spend.current,") and "Meta: lead ads" in out


def test_unreadable_rows_are_refused_with_their_lines_and_nothing_is_written(capsys, tmp_path):
    target = tmp_path / "campaigns.csv"
    code, out, err = tradeoff(capsys, "fit", str(FIXTURES / "malformed.csv"), "-o", str(target))
    assert code == EXIT_INPUT and not target.exists() and "Traceback" not in err
    assert "4 problems found" in err
    for line in (2, 4, 5, 6):
        assert f"malformed.csv line {line}" in err


def test_a_map_value_without_a_header_is_a_usage_error(capsys):
    code, _, err = tradeoff(capsys, "fit", str(FIXTURES / "google_ads.csv"), "--map", "spend")
    assert code == EXIT_INPUT and "COLUMN=HEADER" in err
    code, _, err = tradeoff(capsys, "fit", str(FIXTURES / "google_ads.csv"), "--map", "spend=Costs")
    assert code == EXIT_INPUT and "no column 'Costs'" in err


@pytest.mark.slow  # 2 s: frontiers on draws
def test_uncertainty_spreads_the_fitted_plan_and_bands_its_frontier(capsys, tmp_path):
    scenario = str(SCENARIOS / "history_example.toml")
    code, out, err = tradeoff(capsys, "solve", scenario, "--uncertainty", "4", "--format", "json",
                              "--write-lp", str(tmp_path / "drawn.lp"))
    assert code == EXIT_OK, err
    plan = json.loads(out)
    assert tradeoff(capsys, "solve", scenario, "--write-lp", str(tmp_path / "plain.lp"))[0] == EXIT_OK
    # the LP file is the plan's program, not the last draw's
    assert (tmp_path / "drawn.lp").read_text() == (tmp_path / "plain.lp").read_text()
    spread = plan["uncertainty"]
    assert spread["draws"] == 4 and len(spread["drawn"]) == 3
    leads = spread["as_planned"]["leads"]
    assert leads["p10"] <= leads["p50"] <= leads["p90"] and leads["p10"] < leads["p90"]
    code, out, err = tradeoff(capsys, "frontier", scenario, "--points", "5", "--uncertainty", "2", "--budgets", "90000",
                              "--format", "json", "--chart", str(tmp_path / "band.png"))
    assert code == EXIT_OK, err
    (traced,) = json.loads(out)["frontiers"]  # --budgets gives a sweep, here of one frontier
    assert len(traced["band"]) == len(traced["points"]) and (tmp_path / "band.png").stat().st_size > 0
    # the draws are traced at the frontier's own budget (90,000), not the scenario's 60,000
    first, band = traced["points"][0], traced["band"][0]
    assert band["reached"] == 2 and band["p50"] == pytest.approx(first["leads"], rel=0.05)
    table = frontier_table(Frontier.from_dict(traced))  # what the terminal shows, without solving again
    assert "P10-P90 leads" in table and "over 2 draws of the fitted curves" in table


def test_uncertainty_on_curves_with_none_is_refused_with_the_fix(capsys):
    code, out, err = tradeoff(capsys, "solve", str(SCENARIOS / "b2b_saas.toml"), "--uncertainty", "3")
    assert code == EXIT_INPUT and "Traceback" not in err and "tradeoff fit" in err and not out


def test_diagnostics_charts_are_written_per_campaign_with_the_plan_marked(capsys, tmp_path):
    folder = tmp_path / "fit"
    code, _, err = tradeoff(capsys, "fit", str(SCENARIOS / "history_example.csv"), "-o", str(tmp_path / "c.csv"),
                            "--charts", str(folder), "--scenario", str(SCENARIOS / "history_example.toml"))
    assert code == EXIT_OK, err
    assert sorted(p.name for p in folder.iterdir()) == ["ctv-brand-film.png", "meta-lead-ads.png",
                                                        "search-non-brand.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in folder.iterdir())
    code, _, err = tradeoff(capsys, "fit", str(SCENARIOS / "history_example.csv"),
                            "--scenario", str(SCENARIOS / "history_example.toml"))
    assert code == EXIT_INPUT and "--charts" in err


def test_an_export_too_short_to_fit_is_refused_with_how_many_periods_it_has(capsys, tmp_path):
    target = tmp_path / "campaigns.csv"
    code, _, err = tradeoff(capsys, "fit", str(FIXTURES / "google_ads.csv"), "-o", str(target))
    assert code == EXIT_INPUT and not target.exists() and "Traceback" not in err
    for campaign in ("Search: non-brand", "Search: brand"):  # two weeks each in the export
        assert f"{campaign}: not fitted: only 2 periods of data (4 or more are needed)" in err


def test_a_map_names_the_historys_headers_not_the_simulators(capsys, tmp_path):
    code, _, err = tradeoff(capsys, "fit", str(SCENARIOS / "history_example.csv"), "--map", "spend=spend",
                            "--simulator", str(FIXTURES / "google_bid_simulator.csv"), "-o", str(tmp_path / "c.csv"))
    assert code == EXIT_OK, err
    assert "tabular (7 simulator points" in err

"""The backtest in words and one chart: what :mod:`cachecost.model.backtest` found.

Everything here reads the JSON object of the contract (``Backtest.to_json()``, the
``backtest`` object of ``results.json``), so the command, the summary and the
decision page say the same thing from the same numbers.

    bt = run_backtest(ds, scenario).to_json()
    summary_line(bt)        # "over the last 9 months the 80 % interval held ..."
    verdict_sentences(bt)   # the verdict, what it means for the recommendation, drift
"""

from __future__ import annotations

import html
from typing import Any

from cachecost.model.backtest import wilson

#: What each verdict means for the recommendation.
MEANING = {
    # worded with the number of months by calibrated_meaning(): a pass of a weak test
    "calibrated": "no evidence against calibration",
    "too-narrow": "the measured months fell outside its intervals more often than they "
                  "should: the real spread is wider than the model's, so read the "
                  "recommendation's intervals as too sure of themselves",
    "too-wide": "its intervals are wider than the measured months needed: the "
                "recommendation is surer than its intervals say",
    "biased-high": "it predicted more minutes than were measured: savings it shows on "
                   "compute are likely overstated",
    "biased-low": "it predicted fewer minutes (or rebuilds) than were measured: costs "
                  "that grow with rebuilds are likely understated",
    "too-short": "the history is too short to test it: the recommendation rests on the "
                 "model alone",
}


def _inside(bt: dict[str, Any], key: str) -> tuple[int, int]:
    """(months inside the interval, months scored) from a coverage share."""
    n = len(bt.get("months") or [])
    share = bt.get(key)
    return (round(share * n) if share is not None else 0), n


def scored_strategies(bt: dict[str, Any]) -> str:
    """The strategies of the months the backtest scored, in order (``"a then b"`` across a
    switch); with no month scored, ``bt["strategy"]``. Not the strategy in use: the last
    months, too short to score after a switch, can run another."""
    names = list(dict.fromkeys(str(m["strategy"]) for m in bt.get("months") or []))
    return " then ".join(names) if names else str(bt["strategy"])


def summary_line(bt: dict[str, Any]) -> str:
    """The summary's one line about the backtest."""
    k, n = _inside(bt, "coverage_80")
    if bt["verdict"] == "too-short" or n == 0:
        return ("Backtest: the history is too short to test the model on months it had "
                f"not seen (it needs {bt['training_months_min']} months to train on and "
                "3 more to score).")
    verdict = bt["verdict"] if bt["verdict"] != "calibrated" else (
        f"calibrated, i.e. no evidence against calibration, a weak test with {n} months; "
        f"it checks one month's minutes for {scored_strategies(bt)}, not the "
        "recommendation's "
        "expected-cost ranges")
    if bt.get("verdict_from") == "rebuilds":
        verdict += f", from {_rebuilds_clause(bt)}"
    return (f"Backtest: over the last {n} months the 80 % interval held the measured "
            f"container-build minutes in {k} of them (verdict: {verdict}).")


def _rebuilds_clause(bt: dict[str, Any]) -> str:
    """Where a verdict the rebuild counts set comes from: the minutes read calibrated, the
    rebuilds' own 80 % and 50 % coverage did not (``bt["rebuilds"]``)."""
    reb = bt.get("rebuilds") or {}
    n = int(reb.get("months") or 0)
    held = [f"the {nominal} % interval held {round(reb[key] * n)} of {n}"
            for nominal, key in ((80, "coverage_80"), (50, "coverage_50"))
            if reb.get(key) is not None]
    return ("the monthly image rebuilds, not the minutes (the minutes read calibrated; for "
            "the rebuilds " + " and ".join(held) + ")")


def summary_sentences(results: dict[str, Any]) -> list[str]:
    """What the mailing-list summary says about the backtest, before the recommendation:
    a drift warning (if any) and the one line; nothing for results without one."""
    bt = results.get("backtest")
    if not bt:
        return []
    warning = [s for s in verdict_sentences(bt) if s.startswith("Warning")]
    return [*warning, summary_line(bt)]


def _coverage(bt: dict[str, Any], key: str, nominal: int) -> str:
    k, n = _inside(bt, key)
    lo, hi = wilson(k, n)
    return (f"the {nominal} % interval held {k} of {n} months ({k / n:.0%}; 95 % "
            f"interval {lo:.0%}-{hi:.0%})")


def calibrated_meaning(bt: dict[str, Any]) -> str:
    """What a ``calibrated`` verdict means: no evidence against calibration, with how
    weak the test is (the Wilson 95 % interval of the 80 % interval's true coverage)."""
    k, n = _inside(bt, "coverage_80")
    if n == 0:
        return MEANING["calibrated"]
    lo, hi = wilson(k, n)
    return (f"no evidence against calibration in {n} months (the test is weak with so "
            f"few: {k} of {n} inside the 80 % interval fits a true coverage anywhere from "
            f"{lo:.0%} to {hi:.0%}, so it cannot tell calibrated from too wide)")


def scope_sentence(bt: dict[str, Any]) -> str:
    """What the backtest does and does not validate."""
    other = "" if (bt.get("switch") or {}).get("coverage_80") is not None else \
        ", nor the model's prediction for another strategy"
    return (f"What this tests: the model's prediction of one month's measured container "
            f"minutes for the strategy of the months scored, {scored_strategies(bt)}. "
            "It does not test the "
            "recommendation's expected-cost ranges (averages over the uncertain rates, "
            f"much narrower than one month's spread){other}.")


def drift_sentence(d: dict[str, Any]) -> str:
    """One drifted input in words."""
    return (f"{d['input']} moved by a factor of {d['factor']:.2f} from {d['since']} on "
            "compared with the months before")


def verdict_sentences(bt: dict[str, Any]) -> list[str]:
    """The backtest in sentences: verdict and meaning, coverage, CRPS, drift, switch."""
    out = []
    if bt["drift"]:
        out.append("Warning: the history drifted: "
                   + "; ".join(drift_sentence(d) for d in bt["drift"])
                   + ". The model assumes the future is like the whole measured window; "
                     "recalibrate on the months since, or set the scenario's factors.")
    meaning = calibrated_meaning(bt) if bt["verdict"] == "calibrated" else \
        MEANING[bt["verdict"]]
    source = f", from {_rebuilds_clause(bt)}" if bt.get("verdict_from") == "rebuilds" else ""
    out.append(f"Backtest of {scored_strategies(bt)}: {bt['verdict']}{source} -- {meaning}.")
    if bt["months"]:
        out.append(scope_sentence(bt))
    if bt["months"]:
        out.append(f"Walking forward month by month (training on at least "
                   f"{bt['training_months_min']} earlier months), "
                   + _coverage(bt, "coverage_80", 80) + " and "
                   + _coverage(bt, "coverage_50", 50)
                   + f"; mean CRPS {bt['crps_minutes']:,.0f} minutes.")
    sw = bt.get("switch")
    if sw is None:
        out.append("The history holds no change of builder or caching, so the model's "
                   "prediction for another strategy is untested here.")
    elif sw["coverage_80"] is None:
        out.append(f"The project switched from {sw['from']} to {sw['to']} in "
                   f"{sw['month']}, with too little history before it to test.")
    else:
        out.append(f"The project switched from {sw['from']} to {sw['to']} in "
                   f"{sw['month']}: calibrated on the months before, the model's 80 % "
                   f"interval for {sw['to']} held {sw['coverage_80']:.0%} of the months "
                   "after.")
    return out


def format_table(bt: dict[str, Any]) -> str:
    """The per-month table of ``cachecost backtest``, then the sentences."""
    lines = [f"{'month':<8} {'strategy':<20} {'measured':>9} {'p10':>9} {'p50':>9} "
             f"{'p90':>9} {'PIT':>6}"]
    for m in bt["months"]:
        inside = "" if m["p10"] <= m["observed_minutes"] <= m["p90"] else " *"
        lines.append(f"{m['month']:<8} {m['strategy']:<20} {m['observed_minutes']:>9,.0f} "
                     f"{m['p10']:>9,.0f} {m['p50']:>9,.0f} {m['p90']:>9,.0f} "
                     f"{m['pit']:>6.2f}{inside}")
    if bt["months"]:
        lines.append("minutes of container builds a month; * outside the 80 % interval")
    return "\n".join([*lines, "", *verdict_sentences(bt)])


def plot_backtest(bt: dict[str, Any]) -> Any:
    """Each scored month's predicted p10-p90 interval and p50 against the measured
    minutes (plotly; the page embeds plotly.js, so it draws offline)."""
    import plotly.graph_objects as go

    months = [m["month"] for m in bt["months"]]
    p50 = [m["p50"] for m in bt["months"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=months, y=p50, mode="markers", name="predicted p50, p10-p90",
        marker={"symbol": "line-ew-open", "size": 14, "color": "#4c72b0"},
        error_y={"type": "data", "symmetric": False,
                 "array": [m["p90"] - m["p50"] for m in bt["months"]],
                 "arrayminus": [m["p50"] - m["p10"] for m in bt["months"]],
                 "thickness": 6, "width": 0, "color": "rgba(76,114,176,0.35)"}))
    fig.add_trace(go.Scatter(
        x=months, y=[m["observed_minutes"] for m in bt["months"]], mode="markers",
        name="measured", marker={"color": "#c44e52", "size": 9}))
    fig.update_layout(
        title=f"Backtest: predicted vs measured container-build minutes ({bt['verdict']})",
        xaxis_title="month (predicted from the months before it)",
        yaxis_title="minutes per month", template="plotly_white", height=420,
        legend={"orientation": "h", "y": -0.25})
    return fig


def backtest_html(bt: dict[str, Any]) -> str:
    """The decision page's backtest paragraphs (escaped), warning first."""
    parts = []
    for s in verdict_sentences(bt):
        cls = ' class="warning"' if s.startswith("Warning") else ""
        parts.append(f"<p{cls}>{html.escape(s)}</p>")
    return "\n".join(parts)


def show_backtest(ds: Any, scenario: Any, results: dict[str, Any] | None = None) -> None:
    """The decision page's section: say what the backtest found (a drift warning first)
    and draw the chart; the backtest the report's runner stored in ``results`` when
    there is one, else run here (the notebook alone in JupyterLab). One notebook cell."""
    from IPython.display import HTML, display

    from cachecost.model.backtest import run_backtest

    bt = (results or {}).get("backtest") or run_backtest(ds, scenario).to_json()
    display(HTML("<h2>How well the model predicts this project's own months</h2>\n"  # type: ignore[no-untyped-call]
                 + backtest_html(bt)))
    if bt["months"]:
        display(plot_backtest(bt))  # type: ignore[no-untyped-call]

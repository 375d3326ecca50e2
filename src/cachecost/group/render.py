"""The group index (HTML) and summary (plain text) from the group's rows and namespace.

Both say the same things from the same figures: the scenario and the prices the
figures rest on (read from the loaded scenario, :func:`scenario_prices`), the root
namespace's registry and its shared compute quota, one row per project, and the group's
total expected saving if every project switched to its cheapest strategy
(:func:`total_saving`: the sum of the projects' mean savings, which is the mean of the
summed saving; their p10 to p90 intervals do not add).

    html = render_index(meta, rows, ns, scenario, skipped)
    text = summary_text(meta, rows, ns, skipped, scenario)
"""

from __future__ import annotations

import textwrap
from typing import Any

from cachecost.model.scenario import Scenario
from cachecost.textfmt import format_usd

GIB = 2.0**30
WRAP = 72


def _wrap(text: str, width: int = WRAP, **kwargs: Any) -> list[str]:
    """``textwrap.wrap`` that never breaks a strategy's or a path's hyphenated name."""
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False,
                         **kwargs)


def total_saving(rows: list[dict[str, Any]]) -> float:
    """The group's expected saving a month (USD) if every project switched to its
    cheapest strategy: the sum of the rows' mean savings (a sum's mean is the sum of the
    means; each project's saving is against the others' strategies in use)."""
    return float(sum(float(r["saving_usd_per_month"]["mean"]) for r in rows))


def _figure(value: Any) -> str:
    """A scenario value as text: a number (``50000 -> '50,000'``, ``0.008 -> '0.008'``),
    or a distribution's median (so said)."""
    median = float(getattr(value, "median", value))
    text = f"{median:,.0f}" if median.is_integer() else f"{median:,.4g}"
    return text if getattr(value, "is_fixed", True) else f"{text} (median)"


def _usd(value: Any) -> str:
    """A price as money (``10 -> '$10'``, ``7.5 -> '$7.50'``), a distribution's median so
    said."""
    text = format_usd(float(getattr(value, "median", value)))
    return text if getattr(value, "is_fixed", True) else f"{text} (median)"


def scenario_prices(scenario: Scenario) -> list[tuple[str, str]]:
    """(what, value) pairs the group's figures rest on, read from ``scenario``: the
    runners, their discount factor, quota and price beyond it (GitLab-hosted) or the
    runner price (private), and the registry's price (cash above an allowance, or the
    shadow price)."""
    v = scenario.value
    out: list[tuple[str, str]] = []
    if v("compute.mode") == "gitlab-hosted":
        discount = v("compute.cost_factor")
        quota = v("compute.quota_minutes_per_month")
        out += [("runners", "GitLab-hosted"),
                ("discount factor", "none" if discount is None else _figure(discount)),
                ("compute quota", "none" if not quota else
                 f"{_figure(quota)} minutes a month, the root namespace's"),
                ("price beyond the quota",
                 f"{_usd(v('compute.usd_per_1000_minutes'))} per 1,000 minutes")]
    else:
        hour = v("compute.usd_per_runner_hour")
        out += [("runners", "the projects' own (private)"),
                ("runner price", f"{_usd(hour)} an hour" if hour is not None else
                 f"{_usd(v('compute.node_cost_usd_per_year'))} a year of nodes")]
    billed_above = v("storage.billed_above_gib")
    if billed_above is not None:
        out.append(("registry storage", f"{_usd(v('storage.usd_per_10gib_year'))} per "
                    f"10 GiB a year above {_figure(billed_above)} GiB (billed)"))
    shadow = v("storage.shadow_usd_per_10gib_year")
    out.append(("registry shadow price", "none" if shadow is None else
                f"{_usd(shadow)} per 10 GiB a year (a trade-off rate, not a bill)"))
    return out


def compute_sentence(ns: dict[str, Any], n_projects: int) -> str | None:
    """What the group shares of the compute quota, or None when it has none (private
    runners, no quota): the quota is the root namespace's, the fetched projects' billed
    minutes together and their share of it, and what each project's model sees."""
    c = ns.get("compute") or {}
    if not c.get("is_shared"):
        return None
    quota = float(c["quota_minutes_per_month"])
    used = float(c["fetched_quota_minutes_per_month"])
    text = (f"The compute quota, {quota:,.0f} minutes a month, is the root namespace's: "
            "GitLab counts every job of every project against its top-level namespace. "
            f"The {n_projects} projects fetched use {used:,.0f} billed minutes a month "
            f"together, {100 * used / quota:.0f}% of it (measured, strategies in use; "
            "projects not fetched are not counted)"
            + ("; the minutes beyond it are bought. " if used > quota else ". "))
    if c.get("other_usage_is_measured"):
        return text + ("Each project's model sees what the other fetched projects leave of "
                       "it.")
    other = float(c.get("scenario_other_usage_minutes_per_month") or 0.0)
    return text + (f"Each project's model sees the scenario's {other:,.0f} minutes a month "
                   "of other usage, not the measured one.")


def registry_quota_sentence(ns: dict[str, Any], scenario: str) -> str | None:
    """The registry against the scenario's namespace quota (None without a quota): months
    to it, or where the registry goes under the strategies in use when it never gets there
    (``horizon_gib_p50``: the projects' p50 paths summed with the GiB not fetched; a cache
    repository that fills in its first month is a step up, not "no growth")."""
    quota, months = ns.get("quota_gib"), ns.get("months_to_quota_p50")
    if quota is None:
        return None
    head = f"Registry quota {_figure(quota)} GiB (scenario {scenario}): "
    horizon, at = ns.get("horizon_gib_p50"), ns.get("horizon_months")
    if months is not None:
        how = ("the fetched projects' p50 registries under the strategies in use, summed, "
               "with the GiB not fetched" if horizon is not None else
               f"at {ns['growth_gib_per_month_p50']:.2f} GiB/month of growth (p50, "
               "strategies in use)")
        return head + f"about {months:.1f} months to it ({how})."
    ns_gib = ns.get("namespace_registry_gib")
    if horizon is not None and ns_gib is not None and horizon > ns_gib + 0.05:
        return head + (f"under the strategies in use the namespace's registry goes from "
                       f"{_gib(ns_gib)} today to {_gib(horizon)} at month {at} (the fetched "
                       f"projects' p50 registries summed, with the GiB not fetched), "
                       f"{100 * horizon / float(quota):.0f}% of the quota, and grows no "
                       "further, so it stays under it.")
    return head + ("the fetched projects' registries do not grow under the strategies in "
                   "use (p50), so none reaches it.")


def lead_sentence(rows: list[dict[str, Any]]) -> str:
    """The answer first: how many projects would change, the group's total expected
    saving (:func:`total_saving`) and the project that saves most, from the rows."""
    changes = [r for r in rows if not _kept(r)]
    if not changes:
        return (f"No project would save by changing: each of the {len(rows)} keeps the "
                "strategy it uses (no change saves more than the model's tie resolution).")
    top = max(changes, key=lambda r: float(r["saving_usd_per_month"]["mean"]))
    return (f"Switching {len(changes)} of the {len(rows)} projects to their cheapest "
            f"strategy would save {format_usd(total_saving(rows))} a month in expectation; "
            f"the most, {format_usd(top['saving_usd_per_month']['mean'])}, in "
            f"{top['project_path']} ({top['strategy_in_use']} to "
            f"{top['cheapest_strategy']}).")


def unbroken_html(text: str) -> Any:
    """``text`` escaped as HTML, each hyphenated word (a path's part, a strategy's name)
    in a ``nowrap`` span, so a browser does not break it at its hyphen."""
    import re

    import markupsafe

    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(re.sub(r"[^\s/]*-[^\s/]*",
                                    lambda m: f'<span class="nb">{m.group(0)}</span>',
                                    escaped))


def total_sentence(rows: list[dict[str, Any]]) -> str:
    """What the group's total expected saving is and what it is not."""
    return (f"The total, {format_usd(total_saving(rows))}, is the sum of the projects' mean "
            "savings, which is the mean of the summed saving; their p10 to p90 intervals do "
            "not add up to the total's. Each saving assumes the other projects keep the "
            "strategies they use.")


def _money(q: dict[str, float | None]) -> str:
    if q.get("mean") is None:
        return "-"
    return f"{format_usd(q['mean'])} ({format_usd(q['p10'])} to {format_usd(q['p90'])})"


def _saving(q: dict[str, Any]) -> str:
    """The saving's mean (the decision's figure) with its p10 to p90."""
    return f"{format_usd(q['mean'])} ({format_usd(q['p10'])} to {format_usd(q['p90'])})"


def _minutes(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _gib(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f} GiB"


def _kept(r: dict[str, Any]) -> bool:
    """Whether the project keeps its strategy (no change saves more than the tie)."""
    return bool(r.get("is_status_quo_kept") or r["cheapest_strategy"] == r["strategy_in_use"])


def _cheapest(r: dict[str, Any]) -> str:
    """"keep X" where no change saves more than the tie resolution, else the strategy."""
    return f"keep {r['strategy_in_use']}" if _kept(r) else str(r["cheapest_strategy"])


def _may_lose(r: dict[str, Any]) -> bool:
    return (r["saving_usd_per_month"]["p10"] or 0.0) < 0


_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cachecost: group {{ group }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:80rem;color:#222}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.n,th.n{text-align:right} td.n,td.s,.nb{white-space:nowrap} .synthetic{background:#fff3cd;padding:.6rem;
border:1px solid #e0c060;margin-bottom:1rem} .ns{margin:.8rem 0 1.2rem} tfoot td{font-weight:600}
dl.prices{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;margin:.4rem 0}
dl.prices dt{color:#555} dl.prices dd{margin:0} p.note{font-size:.88rem;margin:.3rem 0}
h2{font-size:1.15rem;margin-top:1.6rem} .scroll{overflow-x:auto}
</style></head><body>
{% if synthetic %}<p class="synthetic"><strong>SYNTHETIC DATA</strong> - served by the
cachecost stand-in, not measured from any real project.</p>{% endif %}
<h1>Group {{ group }}: container-image caching, project by project</h1>
<p class="lead"><strong>{{ lead_sentence }}</strong> {{ total_sentence }}</p>
<p>Sorted by what the model's cheapest strategy would save per month against the one in use
(expected value; p10 to p90 in brackets); "keep" where no change saves more than the
model's tie resolution. Each project links to its own pages.</p>
<div class="scroll"><table><thead><tr><th>Project</th><th>Builder</th><th>Strategy in use</th>
<th class="n">Cost today / month</th><th>Cheapest strategy</th>
<th class="n">Saving / month</th><th class="n">Registry</th>
<th class="n">Share of namespace</th><th class="n">Billed minutes / month</th></tr></thead><tbody>
{% for r in rows %}<tr><td><a href="{{ r.project }}/index.html">{% for part in r.project_path.split("/") %}{% if not loop.first %}/<wbr>{% endif %}<span class="nb">{{ part }}</span>{% endfor %}</a></td>
<td class="s">{{ r.builder or "-" }}</td><td class="s">{{ r.strategy_in_use }}{% if r.note_mark %}<sup><a href="#note-{{ r.note_mark }}">{{ r.note_mark }}</a></sup>{% endif %}</td>
<td class="n">{{ r.cost }}</td><td class="s">{{ r.cheapest }}</td>
<td class="n">{{ r.saving }}{% if r.may_lose %} *{% endif %}</td><td class="n">{{ r.registry }}</td>
<td class="n">{{ r.share }}</td><td class="n">{{ r.minutes }}</td></tr>
{% endfor %}</tbody>
<tfoot><tr><td colspan="5">All {{ rows|length }} projects, each switched to its cheapest
strategy (sum of the means; the intervals do not add)</td>
<td class="n" id="total-saving">{{ total }}</td><td colspan="2"></td>
<td class="n">{{ minutes_total }}</td></tr></tfoot></table></div>
{% if rounding_note %}<p class="note">{{ rounding_note }}</p>{% endif %}
{% if rows|selectattr("may_lose")|list %}<p>* the interval includes a loss: in at least
one sample in ten the change would cost more than the strategy in use.</p>{% endif %}
{% for r in rows if r.note_mark %}<p class="note" id="note-{{ r.note_mark }}"><sup>{{ r.note_mark }}</sup>
{{ r.project_path }}: {{ r.strategy_note }}.</p>
{% endfor %}
{% if skipped %}<p>Not in the table: {{ skipped }}.</p>{% endif %}
<h2>The namespace</h2>
<p class="ns">Root namespace <strong>{{ ns.namespace }}</strong>: {{ ns_gib }} of registry
as GitLab counts it; the {{ rows|length }} projects fetched hold {{ proj_gib }}
({{ unaccounted }} in projects not fetched).
{% if quota_sentence %}{{ quota_sentence }}{% endif %}</p>
{% if compute_sentence %}<p class="compute">{{ compute_sentence }}</p>{% endif %}
<h2>The prices</h2>
<p>The figures rest on scenario <strong>{{ scenario }}</strong> ({{ scenario_title }}):</p>
<dl class="prices">{% for what, value in prices %}<dt>{{ what }}</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
<p><a href="summary.txt">summary.txt</a> · <a href="results.json">results.json</a></p>
</body></html>
"""


def render_index(meta: dict, rows: list[dict], ns: dict, scenario: Scenario,
                 skipped: str) -> str:
    """The group's ``index.html`` (every value escaped)."""
    marks = iter(range(1, len(rows) + 1))
    shown = [{**r, "cost": _money(r["cost_usd_per_month"]),
              "note_mark": next(marks) if r.get("strategy_note") else None,
              "saving": _saving(r["saving_usd_per_month"]), "cheapest": _cheapest(r),
              "registry": _gib(None if r["registry_bytes"] is None else r["registry_bytes"] / GIB),
              "share": "-" if r["namespace_share"] is None else f"{100 * r['namespace_share']:.0f}%",
              "may_lose": _may_lose(r), "minutes": _minutes(r.get("quota_minutes_per_month"))}
             for r in rows]
    import jinja2  # the no-op rebuild renders nothing: imported when needed

    return jinja2.Environment(autoescape=True).from_string(_INDEX).render(
        group=meta.get("group"), synthetic=meta.get("is_synthetic"), ns=ns,
        ns_gib=_gib(ns["namespace_registry_gib"]), proj_gib=_gib(ns["projects_registry_gib"]),
        unaccounted=_gib(ns["unaccounted_gib"]), rows=shown, scenario=scenario.name,
        scenario_title=scenario.title, prices=scenario_prices(scenario),
        compute_sentence=compute_sentence(ns, len(rows)), total=format_usd(total_saving(rows)),
        quota_sentence=registry_quota_sentence(ns, scenario.name),
        lead_sentence=unbroken_html(lead_sentence(rows)), total_sentence=total_sentence(rows),
        skipped=skipped, rounding_note=rounding_note(rows),
        minutes_total=_minutes((ns.get("compute") or {}).get("fetched_quota_minutes_per_month")))


#: The summary's table: a line for the project (path whole, then its strategies when they
#: fit) and a line for its figures, so that no line is wider than a mail reply's 78
#: columns (the longest strategy pair and the widest figures do not fit on one line).
TABLE_WIDTH = 78
#: Where the figures line's cost column ends and its saving column starts.
COST_END, SAVING_AT = 26, 28


def _strategies(r: dict[str, Any]) -> str:
    """``"keep X"``, or ``"X -> Y"`` from the strategy in use to the cheapest."""
    return _cheapest(r) if _kept(r) else f"{r['strategy_in_use']} -> {r['cheapest_strategy']}"


def _shown_usd(x: float) -> float:
    """The value :func:`format_usd` shows for ``x`` (``178.8 -> 179.0``)."""
    return float(format_usd(x).replace("$", "").replace(",", ""))


def rounding_note(rows: list[dict[str, Any]]) -> str | None:
    """When the rows' savings as shown do not add up to the total as shown, say so: the
    total is the sum of the unrounded means (by hand: $89.40 + $89.40 = $178.80, shown
    $179, while the rows show $89 + $89 = $178). None when they agree."""
    total = format_usd(total_saving(rows))
    shown = format_usd(sum(_shown_usd(float(r["saving_usd_per_month"]["mean"])) for r in rows))
    if shown == total:
        return None
    return (f"The rows are rounded: they add up to {shown}; the total, {total}, is the sum of "
            "the unrounded means.")


def _table(rows: list[dict]) -> list[str]:
    """The fixed-width table, at most :data:`TABLE_WIDTH` columns but for a path longer
    than that (never cut): per project its path and strategies (the strategies on a line
    of their own when the two do not fit), then its cost and saving; a total row."""
    head = ["project  strategy in use -> cheapest",
            f"{'cost/month':>{COST_END}}  saving/month: mean (p10 to p90)"]
    rule = "-" * max(len(line) for line in head)
    lines = [*head, rule]
    for r in rows:
        c, s = r["cost_usd_per_month"], r["saving_usd_per_month"]
        path, words = r["project_path"], _strategies(r)
        if len(path) + 2 + len(words) <= TABLE_WIDTH:
            lines.append(f"{path}  {words}")
        else:
            lines += [path, f"  {words}"]
        lines.append(f"{format_usd(c['mean']):>{COST_END}}  {_saving(s)}"
                     + (" *" if _may_lose(r) else ""))
    lines += [rule, f"{'total (sum of the means)':{SAVING_AT}}{format_usd(total_saving(rows))}"]
    return lines


def summary_text(meta: dict, rows: list[dict], ns: dict, skipped: str,
                 scenario: Scenario) -> str:
    """The plain-text group summary: prose wrapped at 72 characters, the scenario's
    prices, the fixed-width table (one project a row) and the group's total."""
    lines = []
    if meta.get("is_synthetic"):
        lines.append("SYNTHETIC DATA - served by the cachecost stand-in, not measured.")
    lines += [*_wrap(f"Group {meta.get('group')}, {len(rows)} projects that build "
                             "container images: " + lead_sentence(rows), WRAP), "",
              *_wrap(total_sentence(rows), WRAP), ""]
    lines += _table(rows)
    note = rounding_note(rows)
    if note:
        lines += _wrap(note, WRAP)
    if any(_may_lose(r) for r in rows):
        lines += ["", *_wrap("* the interval includes a loss: in at least one "
                                     "sample in ten the change would cost more than the "
                                     "strategy in use.", WRAP)]
    for r in rows:
        if r.get("strategy_note"):
            lines += ["", *_wrap(f"{r['project_path']}: {r['strategy_note']}.", WRAP)]
    if skipped:
        lines += ["", *_wrap(f"Not in the table: {skipped}.", WRAP)]
    lines += ["", *_wrap(f"The namespace: root namespace {ns['namespace']} holds "
                                 f"{_gib(ns['namespace_registry_gib'])} of registry; the "
                                 f"{len(rows)} projects fetched hold "
                                 f"{_gib(ns['projects_registry_gib'])}.", WRAP)]
    quota_sentence = registry_quota_sentence(ns, scenario.name)
    if quota_sentence:
        lines += ["", *_wrap(quota_sentence, WRAP)]
    sentence = compute_sentence(ns, len(rows))
    if sentence:
        lines += ["", *_wrap(sentence, WRAP)]
    lines += ["", *_wrap(f"The figures rest on scenario {scenario.name} "
                                 f"({scenario.title}):", WRAP)]
    prices = scenario_prices(scenario)
    width = max(len(what) for what, _ in prices)
    for what, value in prices:
        lines += _wrap(f"  {what:{width}}  {value}", WRAP,
                               subsequent_indent=" " * (width + 4))
    return "\n".join(lines) + "\n"

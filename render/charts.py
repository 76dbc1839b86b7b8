"""The portfolio's charts as plain SVG, drawn on the server: a timeline of projects,
projects per stage, time in stages and at handoffs, and money per year by source.

Each chart is one `<svg role="img">` labelled by its own `<title>` and `<desc>`, with
every word from the gettext catalogue (keys `chart_*`), dates and amounts through
render/formats.py, and every text escaped here, so a page may put the markup inline.
Colours are presentation attributes, not CSS (the site's policy refuses inline styles),
and overdue is said in words and a hatch as well as in red. Nothing here reads a
database: the charts take the engine's views (engine/portfolio.py) or plain rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from engine.portfolio import HandoffWait, Lane
from engine.report import StageRow
from render import formats
from render.catalogue import words

WIDTH = 900
FONT = 12
RIGA = ZoneInfo("Europe/Riga")
PAST = dt.timedelta(days=365)  # the timeline shows at most a year back, and ahead as
AHEAD = dt.timedelta(days=90)  # far as it goes back but at least 90 days (at most a year)
INK, MUTED, GRID = "#1b1b1b", "#5a5a5a", "#d0d0d0"
PAST_FILL, NOW_FILL, PLAN_STROKE = "#8aa1b8", "#1f5f99", "#1f5f99"
LATE, ON_TIME = "#b3261e", "#1f5f99"
# Okabe–Ito: told apart with colour-blindness too.
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"]
MoneyRow = tuple[int, str, Decimal]  # (year, source, amount in euro)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate with one decimal at most."""
    return f"{round(value, 1):g}"


def svg(ident: str, height: float, title: str, desc: str, body: Iterable[str]) -> str:
    """The chart's frame: role, accessible name and description, a view box that scales
    to the width of its container."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="{_e(ident)}" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" width="100%" '
        f'aria-labelledby="{_e(ident)}-title {_e(ident)}-desc" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT}" fill="{INK}">'
        f'<title id="{_e(ident)}-title">{_e(title)}</title>'
        f'<desc id="{_e(ident)}-desc">{_e(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _attrs(attrs: dict[str, object]) -> str:
    """Keyword arguments as SVG attributes: `stroke_width` is stroke-width, `class_`
    is class."""
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())


def _text(x: float, y: float, label: str, **attrs: object) -> str:
    extra = _attrs(attrs)
    return f'<text x="{_n(x)}" y="{_n(y)}"{extra}>{_e(label)}</text>'


def _rect(x: float, y: float, w: float, h: float, tip: str | None = None, **attrs: object) -> str:
    extra = _attrs(attrs)
    head = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(h)}"{extra}'
    return f"{head}><title>{_e(tip)}</title></rect>" if tip else f"{head}/>"


def _line(x1: float, y1: float, x2: float, y2: float, **attrs: object) -> str:
    extra = _attrs(attrs)
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"{extra}/>'


def _clip(label: str, room: float, size: float = FONT) -> str:
    """`label` shortened with an ellipsis to about `room` units of width."""
    fits = max(1, int(room / (size * 0.6)))
    return label if len(label) <= fits else label[: max(1, fits - 1)].rstrip() + "…"


def _hatch(ident: str) -> str:
    return (
        f'<defs><pattern id="{_e(ident)}-hatch" width="6" height="6" '
        f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{LATE}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>'
    )


def nice_ticks(top: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round axis ticks from 0 to at least `top` (steps of 1, 2 or 5 × 10^k; at least 1
    when the figures are `whole` numbers)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1) if whole else step
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _tick(value: float, lang: str) -> str:
    """An axis figure: whole, or with one decimal when the step is a fraction."""
    return formats.number(value, lang, 0 if value == int(value) else 1)


# -- the timeline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeScale:
    """Instants and dates to x: `start` at `x0`, `end` at `x1`, linear in time."""

    start: dt.datetime
    end: dt.datetime
    x0: float
    x1: float

    def x(self, when: dt.datetime | dt.date) -> float:
        at = instant(when)
        at = min(max(at, self.start), self.end)
        span = (self.end - self.start).total_seconds() or 1.0
        return self.x0 + (self.x1 - self.x0) * (at - self.start).total_seconds() / span


def instant(when: dt.datetime | dt.date) -> dt.datetime:
    """A date as the start of that day in Riga; an instant as it is (naive is UTC)."""
    if isinstance(when, dt.datetime):
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return dt.datetime(when.year, when.month, when.day, tzinfo=RIGA)


LABELS = 230  # width of the lanes' labels
ROW = 26


def timeline_scale(lanes: Sequence[Lane], now: dt.datetime) -> TimeScale:
    """The span the timeline shows: from the earliest visit to the last planned end,
    at most `PAST` back and on from `now` as far as it goes back (at least `AHEAD`)."""
    starts = [v.start for ln in lanes for v in ln.visits]
    ends = [instant(p.end) for ln in lanes for p in ln.planned]
    ends += [ln.due_at for ln in lanes if ln.due_at is not None]
    first = max(min([now, *starts]), now - PAST)
    last = min(max([now + dt.timedelta(days=7), *ends]), now + max(AHEAD, now - first))
    pad = (last - first) / 40
    return TimeScale(first - pad, last + pad, LABELS + 10, WIDTH - 10)


def _month_ticks(scale: TimeScale) -> list[dt.date]:
    """First days of months, spaced so their labels do not overlap."""
    months = max(1, round((scale.end - scale.start).days / 30))
    room = (scale.x1 - scale.x0) / months
    every = next(n for n in (1, 2, 3, 6, 12, 24) if room * n >= 80 or n == 24)
    day = dt.date(scale.start.year, scale.start.month, 1)
    out = []
    while instant(day) <= scale.end:
        inside = scale.start <= instant(day) and scale.x(day) < scale.x1 - 40
        if inside and (day.year * 12 + day.month - 1) % every == 0:
            out.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def _span_tip(
    title: str, start: dt.datetime | dt.date, end: dt.datetime | dt.date | None, lang: str
) -> str:
    w = words(lang)
    ends = formats.day(_local(end), lang) if end is not None else w["chart_today"]
    return f"{title}: {formats.day(_local(start), lang)} – {ends}"


def _local(when: dt.datetime | dt.date) -> dt.date:
    return instant(when).astimezone(RIGA).date() if isinstance(when, dt.datetime) else when


def timeline(lanes: Sequence[Lane], now: dt.datetime, lang: str, *, running: int) -> str:
    """One row per project: past stages, the current stage to now with its deadline,
    and the planned stages ahead (dashed), with a line at today."""
    w = words(lang)
    ident = "chart-timeline"
    scale = timeline_scale(lanes, now)
    top = 40
    height = top + ROW * max(1, len(lanes)) + 46
    body = [_hatch(ident)]
    for day in _month_ticks(scale):
        x = scale.x(day)
        body.append(_line(x, top - 6, x, height - 40, stroke=GRID))
        label = formats.day(day, lang)
        body.append(_text(x, top - 12, label, text_anchor="middle", fill=MUTED, font_size=10))
    for i, ln in enumerate(lanes):
        body += _lane(ln, top + i * ROW, scale, now, lang, ident)
    if not lanes:
        body.append(_text(LABELS + 10, top + 18, w["chart_no_data"], fill=MUTED))
    x = scale.x(now)
    body.append(_line(x, top - 6, x, height - 40, stroke=INK, stroke_dasharray="4 3"))
    body.append(_text(x, height - 26, w["chart_today"], text_anchor="middle", font_weight="bold"))
    body += _legend(
        height - 12,
        [
            (w["chart_past_stage"], {"fill": PAST_FILL}),
            (w["chart_current_stage"], {"fill": NOW_FILL}),
            (
                w["chart_planned_stage"],
                {"fill": "#ffffff", "stroke": PLAN_STROKE, "stroke_dasharray": "4 2"},
            ),
            (w["chart_overdue"], {"fill": f"url(#{ident}-hatch)"}),
        ],
    )
    desc = w["chart_timeline_desc"].format(n=len(lanes), total=running)
    return svg(ident, height, w["chart_timeline_title"], desc, body)


def _lane(
    ln: Lane, y: float, scale: TimeScale, now: dt.datetime, lang: str, ident: str
) -> list[str]:
    """One project's row: its label, its visits, the planned stages, its deadline."""
    code_w = len(ln.code) * 8 + 6
    title = _clip(ln.title, LABELS - code_w - 8, 11)
    out = [f'<g class="lane" data-code="{_e(ln.code)}">']
    out.append(_text(4, y + ROW - 12, ln.code, font_weight="bold", font_size=11))
    out.append(_text(4 + code_w, y + ROW - 12, title, font_size=11))
    out += _visits(ln, y, scale, now, lang)
    out += _planned(ln, y, scale, lang)
    if ln.due_at is not None:
        out.append(_deadline(ln, ln.due_at, y, scale, lang, ident))
    out.append("</g>")
    return out


def _visits(ln: Lane, y: float, scale: TimeScale, now: dt.datetime, lang: str) -> list[str]:
    """The stages so far: each from the event that entered it to the next move (the
    current one to now), named inside its bar when the name fits."""
    out, h = [], ROW - 8
    for v in ln.visits:
        end, current = v.end or now, v.end is None
        x0, x1 = scale.x(v.start), scale.x(end)
        out.append(
            _rect(
                x0, y + 2, max(x1 - x0, 2), h, _span_tip(v.title, v.start, v.end, lang),
                fill=NOW_FILL if current else PAST_FILL, stroke="#ffffff",
                data_stage=v.stage, data_start=v.start.isoformat(), data_end=end.isoformat(),
                class_="visit current" if current else "visit",
            )
        )  # fmt: skip
        if x1 - x0 > len(v.title) * 6.5 + 6:
            out.append(_text(x0 + 4, y + h - 3, v.title, fill="#ffffff", font_size=10))
    return out


def _planned(ln: Lane, y: float, scale: TimeScale, lang: str) -> list[str]:
    """The stages ahead, dashed; those past the chart's end are left to the table."""
    w, out, h = words(lang), [], ROW - 8
    for p in ln.planned:
        x0, x1 = scale.x(p.start), scale.x(p.end)
        if x1 - x0 < 1:
            continue
        tip = _span_tip(p.title, p.start, p.end, lang) + (f" ({p.deadline})" if p.deadline else "")
        tip += f", {w['chart_rough']}" if p.rough else ""
        out.append(
            _rect(
                x0, y + 4, x1 - x0, h - 4, tip, fill="#ffffff", stroke=PLAN_STROKE,
                stroke_dasharray="4 2", data_stage=p.stage, data_start=p.start.isoformat(),
                data_end=p.end.isoformat(), class_="planned",
            )
        )  # fmt: skip
        if x1 - x0 > len(p.title) * 6 + 6:
            out.append(_text(x0 + 4, y + h - 3, p.title, fill=PLAN_STROKE, font_size=10))
    return out


def _deadline(ln: Lane, due: dt.datetime, y: float, scale: TimeScale, lang: str, ident: str) -> str:
    """A diamond at the current stage's deadline: hatched red when it has passed."""
    w, x, half = words(lang), scale.x(due), _n((ROW - 8) / 2 + 2)
    word = w["chart_overdue"] if ln.overdue else w["chart_deadline"]
    tip = f"{ln.stage_title}: {word} {formats.day(_local(due), lang)}"
    fill = f"url(#{ident}-hatch)" if ln.overdue else "#ffffff"
    return (
        f'<path d="M{_n(x)} {_n(y)} l5 {half} l-5 {half} l-5 -{half} z" fill="{fill}" '
        f'stroke="{LATE if ln.overdue else INK}" stroke-width="1.5" class="deadline" '
        f'data-due="{_e(due.isoformat())}"><title>{_e(tip)}</title></path>'
    )


Legend = list[tuple[str, dict[str, object]]]


def _legend(y: float, entries: Legend) -> list[str]:
    """Swatches with their labels in a row (an entry's `width` narrows its swatch)."""
    out, x = [], 10.0
    for label, attrs in entries:
        shape = dict(attrs)
        wide = float(str(shape.pop("width", 14)))
        out.append(_rect(x + (14 - wide) / 2, y - 10, wide, 12, None, **shape))
        out.append(_text(x + 20, y, label))
        x += 20 + len(label) * 7 + 24
    return out


# -- projects per stage ---------------------------------------------------------------------


def _stage_name(s: StageRow, several: bool) -> str:
    return f"{s.scheme}: {s.name}" if several else s.name


def _x_grid(
    ticks: list[float], x0: float, scale: float, top: float, bottom: float, lang: str
) -> list[str]:
    """Vertical grid lines at `ticks`, their figures above the bars."""
    out = []
    for t in ticks:
        x = x0 + t * scale
        out.append(_line(x, top - 6, x, bottom, stroke=GRID))
        out.append(
            _text(x, top - 10, _tick(t, lang), text_anchor="middle", fill=MUTED, font_size=10)
        )
    return out


def stages(rows: Sequence[StageRow], lang: str) -> str:
    """A bar per stage holding projects: on time, and overdue hatched, with the counts
    written out."""
    w = words(lang)
    ident = "chart-stages"
    shown = [s for s in rows if s.projects > 0]
    several = len({s.scheme for s in shown}) > 1
    top, label_w = 30, 260
    height = top + ROW * max(1, len(shown)) + 40
    ticks = nice_ticks(max([s.projects for s in shown] or [1]), whole=True)
    x0 = label_w + 10
    scale = (WIDTH - 150 - x0) / ticks[-1]
    body = [_hatch(ident), *_x_grid(ticks, x0, scale, top, height - 34, lang)]
    late = f"url(#{ident}-hatch)"
    for i, s in enumerate(shown):
        y, name, on_time = top + i * ROW, _stage_name(s, several), s.projects - s.overdue
        body.append(_text(label_w, y + 14, _clip(name, label_w - 10), text_anchor="end"))
        tip = f"{name}: {w['chart_on_time']} {on_time}"
        body.append(_rect(x0, y + 2, on_time * scale, ROW - 8, tip, fill=ON_TIME, data_stage=s.key))
        if s.overdue:
            tip = f"{name}: {w['chart_overdue']} {s.overdue}"
            body.append(
                _rect(
                    x0 + on_time * scale, y + 2, s.overdue * scale, ROW - 8, tip, fill=late,
                    data_stage=s.key, class_="overdue",
                )
            )  # fmt: skip
        count = w["chart_overdue_count"].format(n=s.overdue)
        note = f"{s.projects} ({count})" if s.overdue else f"{s.projects}"
        colour = LATE if s.overdue else INK
        body.append(_text(x0 + s.projects * scale + 6, y + 14, note, fill=colour))
    if not shown:
        body.append(_text(x0, top + 18, w["chart_no_data"], fill=MUTED))
    legend: Legend = [(w["chart_on_time"], {"fill": ON_TIME}), (w["chart_overdue"], {"fill": late})]
    body += _legend(height - 10, legend)
    return svg(ident, height, w["chart_stages_title"], w["chart_stages_desc"], body)


# -- time in stages and at handoffs ---------------------------------------------------------

Timed = tuple[str, float, float, str]  # (name, average days, longest days, stage | handoff)
HANDOFF_FILL = "#e69f00"


def times(
    rows: Sequence[StageRow], handoffs: Sequence[HandoffWait], lang: str, *, sampled: int
) -> str:
    """Average days per finished stage visit (bar) and the longest (a mark), then the
    days handoffs waited to be acknowledged on each side."""
    w = words(lang)
    ident = "chart-times"
    shown = [s for s in rows if s.avg_days is not None]
    several = len({s.scheme for s in shown}) > 1
    entries: list[Timed] = [
        (_stage_name(s, several), s.avg_days or 0.0, s.max_days or 0.0, "stage") for s in shown
    ]
    sides = {"central": w["chart_handoff_to_central"], "parish": w["chart_handoff_to_parish"]}
    entries += [
        (sides.get(h.to_level, h.to_level), h.avg_days, h.max_days, "handoff") for h in handoffs
    ]
    top, x0 = 30, 310
    height = top + ROW * max(1, len(entries)) + 40 + (12 if handoffs and shown else 0)
    ticks = nice_ticks(max([e[2] for e in entries] or [1.0]))
    scale = (WIDTH - 110 - x0) / ticks[-1]
    body = _x_grid(ticks, x0, scale, top, height - 34, lang)
    y = float(top)
    for i, entry in enumerate(entries):
        if entry[3] == "handoff" and i and entries[i - 1][3] == "stage":
            body.append(_line(10, y + 4, WIDTH - 10, y + 4, stroke=MUTED))
            y += 12
        body += _timed(entry, x0, y, scale, lang)
        y += ROW
    if not entries:
        body.append(_text(x0, top + 18, w["chart_no_data"], fill=MUTED))
    days = w["chart_days"]
    body.append(_text(WIDTH - 110, height - 26, days, text_anchor="end", fill=MUTED, font_size=10))
    legend: Legend = [
        (w["chart_average_stage"], {"fill": ON_TIME}),
        (w["chart_average_handoff"], {"fill": HANDOFF_FILL}),
        (w["chart_longest"], {"fill": INK, "width": 3}),
    ]
    body += _legend(height - 10, legend)
    desc = w["chart_times_desc"].format(n=sampled)
    return svg(ident, height, w["chart_times_title"], desc, body)


def _timed(entry: Timed, x0: float, y: float, scale: float, lang: str) -> list[str]:
    """One row: the name, a bar to the average, a whisker to the longest, both figures."""
    w = words(lang)
    name, avg, longest, kind = entry
    avg_text, max_text = formats.number(avg, lang, 1), formats.number(longest, lang, 1)
    tip = f"{name}: {w['chart_average']} {avg_text}, {w['chart_longest']} {max_text} "
    tip += f"({w['chart_days']})"
    fill = ON_TIME if kind == "stage" else HANDOFF_FILL
    xm, mid = x0 + longest * scale, y + ROW / 2 - 1
    return [
        _text(x0 - 10, y + 14, _clip(name, x0 - 20), text_anchor="end"),
        _rect(x0, y + 4, avg * scale, ROW - 12, tip, fill=fill, class_=kind),
        _line(x0 + avg * scale, mid, xm, mid, stroke=MUTED),
        _line(xm, y + 3, xm, y + ROW - 5, stroke=INK, stroke_width=2),
        _text(xm + 6, y + 14, f"{avg_text} / {max_text}", font_size=11),
    ]


# -- money per year by source ---------------------------------------------------------------


def money_table(
    rows: Iterable[MoneyRow],
) -> tuple[list[int], list[str], dict[tuple[int, str], Decimal]]:
    """Years in order, sources in order of first appearance, and the sum per pair."""
    sums: dict[tuple[int, str], Decimal] = {}
    years: list[int] = []
    sources: list[str] = []
    for year, source, amount in rows:
        if year not in years:
            years.append(year)
        if source not in sources:
            sources.append(source)
        sums[(year, source)] = sums.get((year, source), Decimal(0)) + Decimal(amount)
    return sorted(years), sources, sums


def money(rows: Iterable[MoneyRow], lang: str) -> str:
    """A stacked column per year, a colour per source (with a legend), the year's total
    above it."""
    w = words(lang)
    ident = "chart-money"
    years, sources, sums = money_table(rows)
    top, base, left, height = 30.0, 250.0, 90.0, 320.0 if years else 80.0
    totals = {y: sum((sums.get((y, s), Decimal(0)) for s in sources), Decimal(0)) for y in years}
    ticks = nice_ticks(float(max(totals.values(), default=Decimal(1)) or 1), whole=True)
    scale = (base - top) / ticks[-1]
    body = []
    for t in ticks if years else []:
        y = base - t * scale
        body.append(_line(left, y, WIDTH - 10, y, stroke=GRID))
        figure = _tick(t, lang)
        body.append(_text(left - 6, y + 4, figure, text_anchor="end", fill=MUTED, font_size=10))
    slot = (WIDTH - 10 - left) / max(1, len(years))
    bar = min(80.0, slot * 0.6)
    for i, year in enumerate(years):
        x = left + slot * i + (slot - bar) / 2
        y = base
        for j, source in enumerate(sources):
            amount = sums.get((year, source), Decimal(0))
            if amount > 0:
                y -= float(amount) * scale
                tip = f"{year}, {source}: {formats.money(amount, 'EUR', lang)}"
                colour = PALETTE[j % len(PALETTE)]
                body.append(
                    _rect(
                        x, y, bar, float(amount) * scale, tip, fill=colour, stroke="#ffffff",
                        data_year=year, data_source=source,
                    )
                )  # fmt: skip
        total = formats.money(totals[year], "EUR", lang)
        body.append(_text(x + bar / 2, base + 16, str(year), text_anchor="middle"))
        body.append(_text(x + bar / 2, y - 6, total, text_anchor="middle", font_size=10))
    if not years:
        body.append(_text(left + 10, top, w["chart_no_data"], fill=MUTED))
    legend: Legend = [(s, {"fill": PALETTE[j % len(PALETTE)]}) for j, s in enumerate(sources)]
    body += _legend(height - 16, legend)
    return svg(ident, height, w["chart_money_title"], w["chart_money_desc"], body)

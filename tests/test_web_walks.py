"""Four people's working day in a real browser, at three widths and in both languages.

A parish specialist, a project manager, the development head and a coordinator of the
demo (`shema demo`, built at a fixed `now` that the app's clock also returns) sign in and
open every page they use: Mani darbi, the projects list, a project, the ideas notebook,
the portfolio and, for the coordinator, the upload page. Each page, at 1366, 768 and
390 px wide, in Latvian and in English, must not scroll sideways, must have no axe-core
violation, and must show no word of the other language's catalogue (nor, in Latvian,
an English engine phrase). Every page is saved as a full-page screenshot in
tests/artifacts/, and Mani darbi must list exactly what the engine calls the person's.

axe-core comes from npm (`npm ci` at the repository root, as .ci/run does). The pages'
CSP forbids inline scripts, so the browser context bypasses CSP to inject it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browsers import CHROMIUM, CHROMIUM_HINT, chromium, require, serve, shot

from engine.demo import DEMO_PASSWORD, DemoResult, run_demo
from engine.service import Engine
from render.catalogue import read, words
from storage.database import Database
from web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"

# A Tuesday morning in Riga; the demo's history is backdated from it, the app's clock
# stands still on it, so working days left and overdue marks are the same every run.
NOW = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)
WIDTHS = (1366, 768, 390)
HEIGHT = 900
LANGS = ("lv", "en")
PEOPLE = {
    "liga.ozolina": "parish specialist",
    "janis.ozols": "project manager",
    "dace.liepina": "development head",
    "ilze.kalnina": "coordinator",
}
COORDINATORS = {"ilze.kalnina"}
PAGES = {
    "mine": "/",
    "projects": "/projects",
    "project": "/projects/{code}",
    "ideas": "/ideas",
    "report": "/report",
    "coordinator": "/coordinator",
}
PROJECT_LINK = re.compile(r"/projects/([A-Z]+-\d{4}-\d+)")
# English the engine may leak into a Latvian page: phrases anywhere in the text, and
# words that would be an untranslated status or priority when they stand in a cell.
ENGINE_PHRASES = ("may not", "missing checklist", "waiting for", "not acknowledged", "all units")
STATUS_WORDS = ("open", "high")
RAW_ID = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # drawn as a box, if at all

require((CHROMIUM, CHROMIUM_HINT), (AXE, "npm ci"))


# -- the scene: one demo database, one server, one browser for the module ------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The demo database, built as `shema demo` builds it but at `NOW`."""
    directory = tmp_path_factory.mktemp("walks") / "demo"
    return run_demo(directory, now=NOW, echo=lambda _: None)


@pytest.fixture(scope="module")
def engine(demo: DemoResult) -> Iterator[Engine]:
    """The engine over the same database, to compare the pages with."""
    eng = Engine(Database(demo.db_url))
    yield eng
    eng.db.dispose()


@pytest.fixture(scope="module")
def server(demo: DemoResult) -> Iterator[str]:
    """The app at `NOW`, served by uvicorn in a thread on a socket bound beforehand (so
    the browser's first request waits in the backlog instead of the test polling)."""
    with serve(create_app(demo.db_url, clock=lambda: NOW)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with chromium() as launched:
        yield launched


@dataclass
class Desk:
    """One signed-in tab per person, and the language that person's session is in."""

    browser: Any
    base: str
    tabs: dict[str, Any] = field(default_factory=dict)
    langs: dict[str, str] = field(default_factory=dict)

    def tab(self, person: str) -> Any:
        if person not in self.tabs:
            self.tabs[person] = self._sign_in(person)
            self.langs[person] = "lv"
        return self.tabs[person]

    def _sign_in(self, person: str) -> Any:
        context = self.browser.new_context(
            viewport={"width": WIDTHS[0], "height": HEIGHT}, bypass_csp=True
        )
        page = context.new_page()
        page.goto(f"{self.base}/login")
        page.fill("#person", person)
        page.fill("#password", DEMO_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert page.url == f"{self.base}/", f"{person} could not sign in: at {page.url}"
        return page

    def open(self, person: str, path: str, width: int, lang: str) -> tuple[Any, Any]:
        """Go to `path` as `person` at `width`; `?lang=` only when the session's language
        must change, so the other visits rely on the session remembering it. The language
        is taken as remembered only from a page that opened in it, so one broken page
        does not turn the next ones into the wrong language."""
        page = self.tab(person)
        page.set_viewport_size({"width": width, "height": HEIGHT})
        query = f"?lang={lang}" if self.langs[person] != lang else ""
        response = page.goto(f"{self.base}{path}{query}")
        opened = response is not None and response.ok
        self.langs[person] = page.evaluate("document.documentElement.lang") if opened else ""
        return page, response


@pytest.fixture(scope="module")
def desk(browser: Any, server: str) -> Iterator[Desk]:
    d = Desk(browser, server)
    yield d
    for page in d.tabs.values():
        page.context.close()


@pytest.fixture(scope="module")
def projects(engine: Engine) -> dict[str, str]:
    """The project each person opens: the first waiting for them, else the first they see."""
    chosen = {}
    for person in PEOPLE:
        mine = engine.list_projects(actor=person, mine=True, now=NOW)
        seen = mine or engine.list_projects(actor=person, now=NOW)
        assert seen, f"{person} sees no project in the demo"
        chosen[person] = seen[0].code
    return chosen


# -- what each page must be -----------------------------------------------------------

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + "  " + n.html.slice(0, 120)),
  }));
}"""

OVERFLOW = """() => {
  const vw = window.innerWidth;
  const clipped = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5 || clipped(el)) continue;
    const up = el.parentElement;
    if (up && up !== document.body && up.getBoundingClientRect().right > vw + 0.5) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + [...el.classList].map(c => "." + c).join("");
    const text = (el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 50);
    out.push(`${name} "${text}" right=${Math.round(r.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth, inner: vw, culprits: out.slice(0, 6)};
}"""

CELLS = """() => [...document.querySelectorAll("td, th, dd, .tag, option")]
  .map(el => el.textContent.trim().replace(/\\s+/g, " ")).filter(t => t)"""


@dataclass(frozen=True)
class Phrase:
    """A catalogue message of one language that must not show in the other."""

    key: str
    text: str
    pattern: re.Pattern[str]


def _messages(lang: str) -> dict[str, list[str]]:
    """Every message of `lang` by key: the singular ones and each plural form."""
    out = {key: [text] for key, text in words(lang).items()}
    for catalogue in read(lang):
        for message in catalogue:
            forms = message.string
            if isinstance(message.id, tuple | list) and isinstance(forms, tuple | list):
                out[str(message.id[0])] = [str(form) for form in forms]
    return out


def _pattern(text: str) -> re.Pattern[str] | None:
    """`text` as a whole-word pattern, a `{placeholder}` matching anything on the line;
    None when the fixed part is shorter than 4 characters. A message of one word (a
    label, a heading, a field's name) counts only standing alone as a line or a table
    cell: inside a sentence it is as likely a word of what people typed ("Būvdarbu
    izmaksas pārsniedz tāmi" is a risk's title, not the English page's word for cost)."""
    parts = re.split(r"\{[a-z_]*\}", text)
    if sum(len(p.strip()) for p in parts) < 4:
        return None
    body = r"[^\n]+?".join(re.escape(p) for p in parts)
    if " " not in text.strip():
        return re.compile(rf"(?:^|(?<=\t)){body}(?=\t|$)", re.MULTILINE)
    return re.compile(rf"(?<!\w){body}(?!\w)")


@cache
def foreign(page_lang: str) -> tuple[Phrase, ...]:
    """The other language's messages that differ from this one's: those of the same key,
    and those that are not some message of this language anyway."""
    other = "en" if page_lang == "lv" else "lv"
    own, theirs = _messages(page_lang), _messages(other)
    own_texts = {text for texts in own.values() for text in texts}
    phrases: dict[str, Phrase] = {}  # by text: plural forms repeat
    for key, texts in theirs.items():
        for text in texts:
            pattern = _pattern(text)
            if pattern and text not in own.get(key, []) and text not in own_texts:
                phrases.setdefault(text, Phrase(key, text, pattern))
    return tuple(phrases.values())


def _line(text: str, at: int) -> str:
    start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
    return text[start : end if end >= 0 else None].strip()[:120]


def purity_problems(page: Any, lang: str) -> list[str]:
    """Words of the other language in the page's visible text, English engine phrases on
    a Latvian page, raw identifiers standing in cells, and control characters."""
    text: str = page.evaluate("document.body.innerText")
    cells: list[str] = page.evaluate(CELLS)
    other = "English" if lang == "lv" else "Latvian"
    found = []
    for phrase in foreign(lang):
        for m in phrase.pattern.finditer(text):
            found.append(
                f"{other} text {m.group(0)!r} (catalogue key {phrase.key}) in line "
                f"{_line(text, m.start())!r}"
            )
    if lang == "lv":
        for said in ENGINE_PHRASES:
            for m in re.finditer(rf"(?<!\w){re.escape(said)}(?!\w)", text, re.IGNORECASE):
                found.append(f"English engine phrase {said!r} in line {_line(text, m.start())!r}")
        for cell in cells:
            for word in STATUS_WORDS:
                if re.search(rf"(?<!\w){word}(?!\w)", cell, re.IGNORECASE):
                    found.append(f"English status word {word!r} in cell {cell[:80]!r}")
    found += [f"raw identifier in a cell: {cell!r}" for cell in cells if RAW_ID.fullmatch(cell)]
    for m in CONTROL.finditer(text):
        found.append(f"control character {m.group(0)!r} in line {_line(text, m.start())!r}")
    return found


def overflow_problems(page: Any) -> list[str]:
    seen = page.evaluate(OVERFLOW)
    if seen["scroll"] <= seen["inner"]:
        return []
    culprits = "; ".join(seen["culprits"]) or "(no single element found)"
    return [
        f"horizontal scroll: scrollWidth {seen['scroll']} > innerWidth {seen['inner']}; "
        f"past the right edge: {culprits}"
    ]


def axe_problems(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']}; nodes: "
        + " | ".join(v["nodes"][:5])
        + (f" | … {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
        for v in violations
    ]


# -- the walks ------------------------------------------------------------------------


def _visits() -> list[Any]:
    """(person, page, width, language), ordered so each session changes language twice."""
    out = []
    for person in PEOPLE:
        for lang in LANGS:
            for width in WIDTHS:
                for name in PAGES:
                    if name == "coordinator" and person not in COORDINATORS:
                        continue
                    visit = (person, name, width, lang)
                    out.append(pytest.param(*visit, id="-".join(map(str, visit))))
    return out


@pytest.mark.parametrize(("person", "name", "width", "lang"), _visits())
def test_every_page_fits_is_accessible_and_speaks_one_language(
    person: str, name: str, width: int, lang: str, desk: Desk, projects: dict[str, str]
) -> None:
    path = PAGES[name].format(code=projects[person])
    page, response = desk.open(person, path, width, lang)
    problems = []
    if response is None or response.status != 200 or not page.url.startswith(desk.base + path):
        status = response.status if response else "no response"
        problems.append(f"the page did not open: status {status}, at {page.url}")
    shown_lang = page.evaluate("document.documentElement.lang")
    if shown_lang != lang:
        problems.append(f"<html lang={shown_lang!r}>, expected {lang!r}")
    picture = shot(page, f"walk-{person}-{name}-{width}-{lang}")
    problems += overflow_problems(page)
    problems += axe_problems(page)
    problems += purity_problems(page, lang)
    where = f"{person} ({PEOPLE[person]}) · {name} {path} · {width} px · {lang}"
    counted = Counter(problems)
    listed = "\n".join(f"  - {p}" + (f" (×{n})" if n > 1 else "") for p, n in counted.items())
    assert not problems, f"{where}: {len(problems)} problem(s)\n{listed}\n  screenshot: {picture}"


@pytest.mark.parametrize("person", PEOPLE)
def test_mani_darbi_lists_exactly_what_the_engine_calls_mine(
    person: str, desk: Desk, engine: Engine
) -> None:
    page, response = desk.open(person, "/", WIDTHS[0], desk.langs.get(person) or "lv")
    status = response.status if response else "no response"
    assert status == 200, f"{person} ({PEOPLE[person]}): Mani darbi did not open: {status}"
    hrefs: list[str] = page.eval_on_selector_all(
        "main a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    shown = {m.group(1) for h in hrefs if (m := PROJECT_LINK.fullmatch(h))}
    expected = {p.code for p in engine.list_projects(actor=person, mine=True, now=NOW)}
    assert shown == expected, (
        f"{person} ({PEOPLE[person]}): Mani darbi lists {sorted(shown)}, "
        f"Engine.list_projects(mine=True) gives {sorted(expected)}; "
        f"missing {sorted(expected - shown)}, extra {sorted(shown - expected)}"
    )

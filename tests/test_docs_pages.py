"""The pieces behind the lab pages and the setup page, without building the site: the view of a
notebook, the lab facts, the page fixes, the boxes' classes in the stylesheet, the command outputs."""

from __future__ import annotations

import json
import re

import pytest

from kserve_workshop.docs_pages import lab_view, outputs, page_html
from kserve_workshop.docs_pages.lab_facts import LAB_FACTS
from kserve_workshop.errors import WorkshopError
from kserve_workshop.labkit import boxes
from kserve_workshop.labkit.grading import CheckResult
from kserve_workshop.paths import DOCS_DIR, NOTEBOOKS_DIR, REPO_ROOT

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
TROUBLESHOOTING = (DOCS_DIR / "troubleshooting.md").read_text(encoding="utf-8")
TITLES = lab_view.troubleshooting_titles(TROUBLESHOOTING)
SKIP = {
    "output_type": "display_data",
    "metadata": {"workshop": "cluster-skipped"},
    "data": {"text/plain": "Skipped", "text/html": "<div>Skipped</div>"},
}
LEGACY_SKIP = {
    "output_type": "stream",
    "name": "stdout",
    "text": "\u23ed  Cluster cell skipped: no usable kubeconfig\n",
}


def md(text, tags=None):
    return {"cell_type": "markdown", "metadata": {"tags": tags} if tags else {}, "source": text}


def code(text, outputs=()):
    return {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": text, "outputs": list(outputs)}


def lab(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def view(notebook, number=1, previous=None):
    return lab_view.lab_view(
        notebook, number=number, filename="01-x.ipynb", previous=previous, troubleshooting_titles=TITLES
    )


SAMPLE = lab(
    [
        md("# Lab 1 — Sample\n\nIntro."),
        code("x = 1"),
        md("## 1. Train a classifier"),
        md("## 3. Serve it with KServe's model server"),
        code(
            "s = 1",
            [
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "text/html": '<div class="workshop-check" style="border-left:4px solid #2e7d32;background:#edf7ed;padding:4px 8px">ok</div>'
                    },
                }
            ],
        ),
        md("## 7. The same model on a cluster\n\nDeploy it."),
        code("%%cluster\napply()", [SKIP, LEGACY_SKIP]),
        md("**Expected on a cluster** (written ...):\n\n```text\ncreated\n```", ["expected-output"]),
        code("%%cluster\npredict()", [SKIP]),
        code("%%cluster\ndelete()", [{"output_type": "stream", "name": "stdout", "text": "deleted\n"}]),
        md("## Recap"),
    ]
)


def texts(notebook):
    return [lab_view.source(cell) for cell in notebook["cells"]]


def test_the_view_puts_the_banner_under_the_title_and_before_you_begin_after_the_introduction():
    cells = texts(view(SAMPLE))
    assert cells[0] == "# Lab 1 — Sample"
    assert "workshop-lab-banner" in cells[1] and 'href="../../downloads/01-x.ipynb"' in cells[1]
    assert "solutions blanked" in cells[1]
    assert cells[2] == "Intro."
    before = cells[3]
    assert before.startswith("## Before you begin")
    assert "**Local part** (sections 1 and 3)" in before and "**Cluster part** (section 7)" in before
    assert "the [setup](../../setup/) only" in before, "Lab 1 builds on nothing but the setup"
    assert "](../../setup/#prerequisites-local-only)" in before


def test_one_notice_per_cluster_section_and_no_skip_notice_under_cells():
    result = view(SAMPLE)
    notices = [c for c in texts(result) if "workshop-notice--cluster" in c]
    assert len(notices) == 1
    assert "boxes labelled <em>Expected on a cluster</em>" not in notices[0]
    assert "a box labelled <em>Expected on a cluster</em>" in notices[0] and "`" not in notices[0]
    cluster = [c for c in result["cells"] if lab_view.is_cluster_cell(c)]
    assert [c["metadata"]["tags"] for c in cluster] == [["cluster"]] * 3
    assert cluster[0]["outputs"] == [] and cluster[1]["outputs"] == [], "skip notices (new and old) are gone"
    assert cluster[2]["outputs"][0]["text"] == "deleted\n", "real outputs stay"
    position = texts(result).index(notices[0])
    assert lab_view.is_cluster_cell(result["cells"][position + 1]), (
        "the notice comes right before the first cluster cell"
    )


#: The sections Lab 1's facts link troubleshooting entries from (a Lab 1 view needs them).
LAB1_SECTIONS = [md("## 3. Serve it with KServe's model server")]


def test_a_section_of_cluster_cells_without_boxes_says_so():
    notebook = lab(
        [md("# Lab 1 — S"), *LAB1_SECTIONS, md("## 7. The same model on a cluster"), code("%%cluster\na()", [SKIP])]
    )
    (notice,) = [c for c in texts(view(notebook)) if "workshop-notice" in c]
    assert "not shown on this page yet" in notice


def test_troubleshooting_links_follow_the_steps_named_in_the_lab_facts():
    cells = texts(view(SAMPLE))
    serve = cells.index("## 3. Serve it with KServe's model server")
    assert 'href="../../troubleshooting/#port-in-use"' in cells[serve + 1]
    assert "A port is already in use" in cells[serve + 1]
    cluster = next(i for i, c in enumerate(cells) if c.startswith("## 7."))
    assert "#gateway-404" in cells[cluster + 1]


def test_old_check_results_get_the_classes_and_lose_their_inline_colours():
    html = next(
        o["data"]["text/html"]
        for c in view(SAMPLE)["cells"]
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    )
    assert html == '<div class="workshop-box workshop-check workshop-check--pass">ok</div>'
    failed = CheckResult("lab1.x", False, "wrong", expected="1", found="2", hint="h")._repr_html_()
    assert lab_view.restyle_html(failed).startswith('<div class="workshop-box workshop-check workshop-check--fail">')
    legacy_fail = (
        '<div class="workshop-check" style="border-left:4px solid #c62828;background:#fdecea;padding:4px 8px">'
    )
    assert "workshop-check--fail" in lab_view.restyle_html(legacy_fail)


def test_the_view_never_changes_the_notebook_it_is_given():
    before = json.dumps(SAMPLE, sort_keys=True)
    view(SAMPLE)
    assert json.dumps(SAMPLE, sort_keys=True) == before


@pytest.mark.parametrize(
    "notebook, number, message",
    [
        (lab([md("# Lab 42 — Unknown")]), 42, "Lab 42 (01-x.ipynb) has no entry"),
        (
            lab([*LAB1_SECTIONS, md("## 7. The same model on a cluster")]),
            1,
            "does not start with a '# Lab N — topic' title",
        ),
        (lab([md("# Lab 1 — S"), md("## 1. Renamed")]), 1, 'no section titled "Serve it with KServe\'s model server"'),
    ],
)
def test_a_notebook_the_facts_do_not_fit_is_a_clear_build_error(notebook, number, message):
    with pytest.raises(WorkshopError, match=re.escape(message)):
        view(notebook, number=number)


def test_an_unknown_troubleshooting_anchor_is_a_clear_build_error():
    with pytest.raises(WorkshopError, match="no entry with id nowhere"):
        lab_view.trouble_line(("nowhere",), TITLES, lab_view.PageLinks())


def test_every_master_has_facts_whose_sections_and_anchors_exist():
    for path in NOTEBOOKS:
        number = int(path.name[:2])
        assert number in LAB_FACTS, f"{path.name}: add it to docs_pages.lab_facts"
        notebook = json.loads(path.read_text(encoding="utf-8"))
        titles = {section.title for section in lab_view.sections(notebook["cells"])}
        facts = LAB_FACTS[number]
        assert set(facts.troubleshooting) <= titles, (path.name, set(facts.troubleshooting) - titles)
        assert {a for anchors in facts.troubleshooting.values() for a in anchors} <= set(TITLES)
        assert facts.builds_on is None or facts.builds_on < number


def test_troubleshooting_has_the_local_tier_entries():
    assert {"prometheus-missing", "schema-not-cached", "port-in-use"} <= set(TITLES)
    assert TITLES["prometheus-missing"] == "prometheus is not installed"


@pytest.mark.parametrize(
    "numbers, shown",
    [
        (["1", "2", "3"], " (sections 1–3)"),
        (["7"], " (section 7)"),
        (["1", "2", "4", "6", "7"], " (sections 1–2, 4 and 6–7)"),
        ([], ""),
    ],
)
def test_section_ranges(numbers, shown):
    assert lab_view._numbers(numbers) == shown


# ----- page fixes ----------------------------------------------------------------------------------

RENDERED = (
    '<h1 id="lab-3-autoscaling">Lab 3 — Autoscaling<a class="anchor-link" href="#lab-3-autoscaling">¶</a></h1>'
    '<h2 id="4-from-capacity-to-scaletarget">4. From capacity to <code>scaleTarget</code>'
    '<a class="anchor-link" href="#4-from-capacity-to-scaletarget">¶</a></h2>'
    '<h3 id="exercise-4">Exercise 4</h3><h2 id="recap">Recap &amp; more</h2>'
)


def test_the_table_of_contents_comes_from_the_rendered_headings():
    (title,) = page_html.toc_tokens(RENDERED)
    assert title["name"] == "Lab 3 — Autoscaling"
    assert [(t["id"], t["name"]) for t in title["children"]] == [
        ("4-from-capacity-to-scaletarget", "4. From capacity to scaleTarget"),
        ("recap", "Recap &amp; more"),
    ]


def test_permalinks_become_the_themes_so_search_leaves_them_out():
    fixed = page_html.material_headerlinks(RENDERED)
    assert "anchor-link" not in fixed and fixed.count('class="headerlink"') == 2


# ----- the boxes and the stylesheet ----------------------------------------------------------------

STYLESHEET = (DOCS_DIR / "assets" / "stylesheets" / "workshop.css").read_text(encoding="utf-8")


def test_every_box_class_is_styled_for_both_schemes():
    for name in boxes.classes():
        assert re.search(rf"\.{re.escape(name)}\b", STYLESHEET), f".{name} has no rule in workshop.css"
    light = STYLESHEET[STYLESHEET.index(":root") : STYLESHEET.index('[data-md-color-scheme="slate"]')]
    dark = STYLESHEET[STYLESHEET.index('[data-md-color-scheme="slate"] {') :]
    for variable in re.findall(r"(--workshop-[\w-]+):", light):
        assert f"{variable}:" in dark, f"{variable} has no dark-scheme value"


@pytest.mark.parametrize("passed, kind", [(True, "pass"), (False, "fail")])
def test_check_results_in_jupyter_read_on_light_and_dark_themes(passed, kind):
    markup = CheckResult("lab1.x", passed, "m", expected="1", found="2")._repr_html_()
    assert markup.startswith(f'<div class="workshop-box workshop-check workshop-check--{kind}" style="')
    style = re.search(r'style="([^"]*)"', markup).group(1)
    assert "rgba(" in style and not re.search(r"(?<![-\w])color\s*:", style), "a tint, and the theme's own text colour"


# ----- command outputs -------------------------------------------------------------------------------

MACHINE_PATH = re.compile(r"(?<![\w.~])/(?:work|home|root|Users|tmp)/")


@pytest.mark.parametrize("name", sorted(outputs.CAPTURES))
def test_captured_outputs_are_labelled_and_hold_no_machine_path(name):
    meta, text = outputs.read_captured(name)
    assert {"command", "date", "platform", "python"} <= set(meta)
    assert meta["command"] == "invoke " + " ".join(outputs.CAPTURES[name])
    assert not MACHINE_PATH.search(text), MACHINE_PATH.search(text)
    assert str(REPO_ROOT) not in text


def test_paths_of_the_machine_become_relative_or_home():
    text = outputs.without_machine_paths(
        "  /srv/ws/.cache/x.joblib in /srv/ws and /home/al/.kube",
        root=REPO_ROOT.__class__("/srv/ws"),
        home=REPO_ROOT.__class__("/home/al"),
    )
    assert text == "  .cache/x.joblib in . and ~/.kube"


def test_expected_doctor_output_has_the_checks_the_doctor_makes():
    from support.doctor_machines import LocalMachine, Machine

    from kserve_workshop import doctor, doctor_local

    text = outputs.expected_doctor()
    real = [r.check for r in doctor_local.collect_local(LocalMachine().probes())]
    real += [r.check for r in doctor.collect(Machine().probes())]
    shown = re.findall(r"^  pass  ([^:]+(?::\d+)?):", text, re.M)
    assert shown == real
    assert "local tier: ready" in text and "cluster tier (kind): ready" in text


def test_expected_status_lists_every_component_ready():
    from kserve_workshop.platform import COMPONENTS

    text = outputs.expected_status()
    for component in COMPONENTS:
        assert re.search(rf"│ {component.name}\s+│.*│ yes ", text), component.name
    assert text.rstrip().endswith("All components ready.")


@pytest.mark.parametrize(
    "name, command",
    [("doctor", "invoke doctor"), ("up", "invoke up"), ("status", "invoke status"), ("smoke", "invoke smoke")],
)
def test_expected_outputs_are_labelled_as_expected(name, command):
    block = outputs.expected_output(name)
    assert 'class="workshop-output workshop-output--expected"' in block
    assert "**Expected output**" in block and "not captured from a run" in block
    assert f"$ {command}\n" in block


def test_unknown_outputs_are_refused():
    with pytest.raises(WorkshopError, match="no expected output called 'deploy'"):
        outputs.expected_output("deploy")
    with pytest.raises(WorkshopError, match="nothing to capture called 'up'"):
        outputs.capture("up")


def skeleton(text: str) -> list[str]:
    """Lines with every number and log-file suffix masked: what stays when the same command runs again
    elsewhere (each server start writes ``NAME-PORT-<8 random hex>.log``)."""
    masked = (re.sub(r"-[0-9a-f]{8}\.log\b", "-#.log", line) for line in text.strip().splitlines())
    # Under pytest-xdist each worker has a cache of its own (tests/worker_cache.py).
    masked = (re.sub(r"\.cache/xdist/gw\d+/", ".cache/", line) for line in masked)
    return [re.sub(r"\d+(\.\d+)?", "#", line).rstrip() for line in masked]


@pytest.mark.slow
def test_the_captured_invoke_local_is_what_invoke_local_prints_today():
    """Runs `invoke local` for real (a model server on 127.0.0.1 for a few seconds)."""
    _, committed = outputs.read_captured("invoke-local")
    first, _, fresh = outputs.capture("invoke-local").partition("\n")
    assert json.loads(first)["command"] == "invoke local"
    assert skeleton(fresh) == skeleton(committed), "invoke local changed: run `invoke docs.capture` and commit"
    assert not MACHINE_PATH.search(fresh)

"""Loading the course model: modules, items, questions, qualifications, assets."""

import hashlib
import os
from pathlib import Path

import pytest

from lms.courses.content import (
    DIGCOMP_22,
    Competence,
    Course,
    Module,
    find_asset,
    load_course,
)
from lms.courses.render import clear_render_cache, render_cache_info

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(GOOD)


@pytest.fixture(scope="module")
def m1(course: Course) -> Module:
    module = course.module("m1-gut")
    assert module is not None
    return module


def test_modules_in_order_with_metadata(course: Course, m1: Module) -> None:
    assert course.problems == ()
    assert [m.id for m in course.modules] == ["m1-gut", "m2-weiter"]
    assert m1.title == "Sicher im Netz"
    assert m1.summary == "Du lernst, wie du deine Konten schützt."
    assert (m1.order, m1.version, m1.minutes, m1.pass_mark) == (1, "1.2", 90, 70)
    assert m1.framework == "DigComp 2.2"
    assert m1.competences == (Competence("4.2", 3), Competence("2.6", 4))
    assert m1.competences[1].label == "Digitale Identität gestalten"
    assert m1.prerequisites == ()
    assert m1.path == GOOD.resolve() / "m1-gut"
    m2 = course.module("m2-weiter")
    assert m2 is not None
    assert m2.prerequisites == ("m1-gut",)
    assert m2.pass_mark == 80  # the default
    assert course.module("nope") is None


def test_items_in_file_order_without_non_content(m1: Module) -> None:
    assert [(i.id, i.kind, i.position) for i in m1.items] == [
        ("m1-konten-schuetzen", "lesson", 1),
        ("m1-passwort-manager", "lesson", 2),
        ("m1-selbstcheck", "quiz", 3),
        ("m1-praxisaufgabe", "task", 4),
    ]
    assert [i.id for i in m1.lessons] == ["m1-konten-schuetzen", "m1-passwort-manager"]
    assert m1.quiz is not None and m1.quiz.id == "m1-selbstcheck"
    assert m1.task is not None and m1.task.id == "m1-praxisaufgabe"
    assert m1.item("m1-passwort-manager") is m1.items[1]
    assert m1.item("REVIEW") is None


def test_lesson(m1: Module) -> None:
    lesson = m1.items[0]
    assert (lesson.title, lesson.minutes) == ("Konten schützen", 12)
    assert lesson.source_path == GOOD.resolve() / "m1-gut" / "01-konten-schuetzen.md"
    text = lesson.source_path.read_text(encoding="utf-8")
    assert lesson.content_hash == hashlib.sha256(f"m1-gut\n{text}".encode()).hexdigest()
    assert '<a href="m1-passwort-manager#start">Passwort-Manager</a>' in lesson.html
    assert '<a href="../m2-weiter/m2-live-beraten">Modul 2</a>' in lesson.html
    assert '<a href="assets/liste.pdf">Checkliste</a>' in lesson.html
    assert '<img src="assets/schloss.svg" alt="Ein Schloss vor einem Bildschirm" loading="lazy">' in lesson.html
    assert '<aside class="box box--tipp" role="note"><p class="box__title">Tipp</p>' in lesson.html
    assert '<p class="box__title">Rechtlicher Hinweis</p>' in lesson.html
    assert "<table>" in lesson.html
    assert "Botschafter*in" in lesson.html
    assert lesson.questions == () and lesson.pass_mark is None and lesson.submission is None


def test_quiz(m1: Module) -> None:
    quiz = m1.quiz
    assert quiz is not None
    assert quiz.html == "<p>Ein kurzer Satz zur Einleitung.</p>\n"
    assert quiz.minutes is None
    assert quiz.pass_mark == 70  # from the module
    kinds = [(q.id, q.kind) for q in quiz.questions]
    assert kinds == [
        ("m1-q-passwort", "single"),
        ("m1-q-profil", "multiple"),
        ("m1-q-2fa", "true_false"),
        ("m1-q-phishing", "multiple"),  # two [x] without typ
        ("m1-q-uebernommen", "multiple"),  # typ=mehrfach with one [x]
        ("m1-q-speichern", "single"),  # typ=einfach
    ]
    first = quiz.questions[0]
    assert first.title == "Welches Passwort schützt dein Konto am besten?"
    assert first.prompt_html == ""
    assert [a.correct for a in first.answers] == [False, True, False]
    assert first.answers[0].text_html == "<code>Handwerk2024!</code>"
    assert first.answers[1].feedback_html == "Richtig! Länge macht ein Passwort <em>stark</em>."
    assert first.correct_indices == frozenset({1})
    assert quiz.questions[1].prompt_html == "<p>Denk an Lena, die eine Ausbildung macht.</p>\n"
    assert [a.text_html for a in quiz.questions[2].answers] == ["Wahr", "Falsch"]
    assert quiz.questions[5].answers[1].feedback_html == "Richtig."


def test_tasks(course: Course, m1: Module) -> None:
    task = m1.task
    assert task is not None
    assert (task.submission, task.review, task.minutes) == ("checklist", False, 30)
    assert task.checklist == (
        "Ich habe die <strong>Zwei-Faktor-Anmeldung</strong> eingeschaltet.",
        "Ich nutze einen Passwort-Manager.",
    )
    assert "Checkliste" not in task.html
    assert task.html == ("<p>Prüfe deine wichtigsten Konten.</p>\n<h2>Danach</h2>\n<p>Erzähl im Tutorium davon.</p>\n")
    found = course.item("m2-aufgabe")
    assert found is not None
    module, link_task = found
    assert module.id == "m2-weiter"
    assert (link_task.submission, link_task.review, link_task.checklist) == ("link", True, ())


def test_course_item_lookup(course: Course) -> None:
    found = course.item("m1-selbstcheck")
    assert found is not None and found[0].id == "m1-gut" and found[1].kind == "quiz"
    assert course.item("m1-q-passwort") is None  # questions are not items
    assert course.item("nope") is None


def test_qualifications(course: Course) -> None:
    assert [(q.id, q.title, q.modules, q.live_tutorials) for q in course.qualifications] == [
        ("digital-startklar", "Digital startklar", ("m1-gut",), 0),
        ("digitale-botschafterin", "Digitale*r Botschafter*in", ("m1-gut", "m2-weiter"), 1),
    ]
    assert course.qualifications[0].description == "Der Einstieg."
    assert course.qualification("digital-startklar") is course.qualifications[0]
    assert course.qualification("nope") is None


def test_bad_modules_are_left_out_and_the_rest_is_served() -> None:
    course = load_course(BAD)
    assert [m.id for m in course.modules] == ["ok-modul"]
    assert course.problems  # reported, not raised
    assert [(q.id, q.modules) for q in course.qualifications] == [("alles", ("ok-modul",))]


def test_prerequisites_on_a_left_out_module_are_dropped(tmp_path: Path) -> None:
    for name in ("m1", "m2"):
        folder = tmp_path / name
        folder.mkdir()
        prerequisites = "[m1]" if name == "m2" else "[]"
        (folder / "module.yaml").write_text(
            f'id: {name}\ntitle: T\nsummary: S\norder: 1\nversion: "1"\nminutes: 5\n'
            f"prerequisites: {prerequisites}\n"
            'digcomp: {framework: "DigComp 2.2", competences: [{id: "1.1", level: 1}]}\n',
            encoding="utf-8",
        )
        body = "<b>x</b>" if name == "m1" else "Text."
        (folder / "01-a.md").write_text(f"---\nid: {name}-a\ntitle: A\nminutes: 5\n---\n\n{body}\n", encoding="utf-8")
    (tmp_path / "qualifications.yaml").write_text("qualifications: []\n", encoding="utf-8")
    course = load_course(tmp_path)
    assert [str(p) for p in course.problems] == ["m1/01-a.md:7: raw HTML is not allowed"]
    assert [(m.id, m.prerequisites) for m in course.modules] == [("m2", ())]


def test_load_course_never_raises_on_garbage(tmp_path: Path) -> None:
    odd = tmp_path / "m1"
    odd.mkdir()
    (odd / "module.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (odd / "01-binary.md").write_bytes(b"\xff\xfe\x00garbage")
    (odd / "02-list.md").write_text("---\n- a\n---\n\nText.\n", encoding="utf-8")
    (odd / "03-empty.md").write_text("", encoding="utf-8")
    (odd / "04-unclosed.md").write_text("---\nid: x\n", encoding="utf-8")
    (odd / "05-tabs.md").write_text("---\nid: m1-tabs\n\ttitle: x\n---\n", encoding="utf-8")
    (odd / "90-quiz.md").write_text(
        "---\nid: m1-quiz\ntype: quiz\ntitle: Q\n---\n\n## {#}\n\n- [x]\n", encoding="utf-8"
    )
    empty = tmp_path / "m2"
    empty.mkdir()
    (empty / "module.yaml").write_text("", encoding="utf-8")
    (tmp_path / "qualifications.yaml").write_text("qualifications: nope\n", encoding="utf-8")
    course = load_course(tmp_path)
    assert course.modules == ()
    assert course.qualifications == ()
    messages = [str(p) for p in course.problems]
    assert "m1/module.yaml:1: module.yaml must be a set of 'key: value' lines" in messages
    assert "m1/01-binary.md:1: file is not UTF-8 text" in messages
    assert "m2/module.yaml:1: module.yaml must be a set of 'key: value' lines" in messages
    assert "qualifications.yaml:1: 'qualifications' must be a list" in messages
    assert any(m.startswith("m1/05-tabs.md:3: invalid YAML") for m in messages)


def test_digcomp_has_the_21_competences() -> None:
    expected = [f"{area}.{n}" for area, count in ((1, 3), (2, 6), (3, 4), (4, 4), (5, 4)) for n in range(1, count + 1)]
    assert list(DIGCOMP_22) == expected
    assert DIGCOMP_22["4.2"] == "Personenbezogene Daten und Privatsphäre schützen"
    assert all(DIGCOMP_22.values())


def test_find_asset_stays_inside_assets(m1: Module, tmp_path: Path) -> None:
    assets = (m1.path / "assets").resolve()
    assert find_asset(m1, "schloss.svg") == assets / "schloss.svg"
    assert find_asset(m1, "./schloss.svg") == assets / "schloss.svg"
    for attack in (
        "../module.yaml",
        "../../m2-weiter/module.yaml",
        "..",
        ".",
        "",
        "/etc/passwd",
        str(m1.path / "module.yaml"),
        "fehlt.svg",
        "schloss.svg\x00.png",
        "%2e%2e/module.yaml",
    ):
        assert find_asset(m1, attack) is None, attack


def test_find_asset_refuses_symlinks_out_of_assets(tmp_path: Path) -> None:
    folder = tmp_path / "m1"
    (folder / "assets").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("s", encoding="utf-8")
    os.symlink(secret, folder / "assets" / "link.svg")
    module = Module("m1", "T", "S", 1, "1", 5, (), 80, (), "DigComp 2.2", (), folder)
    assert find_asset(module, "link.svg") is None


def test_loading_seven_modules_renders_each_file_once(tmp_path: Path) -> None:
    """Speed is a benchmark's business; here: a reload renders nothing again (the cache is keyed by content)."""
    lesson = "Ein Absatz mit **fett**, *kursiv* und [Link](https://example.org).\n\n" * 40
    for number in range(1, 8):
        folder = tmp_path / f"m{number}"
        folder.mkdir()
        (folder / "module.yaml").write_text(
            f'id: m{number}\ntitle: T\nsummary: S\norder: {number}\nversion: "1"\nminutes: 5\n'
            'digcomp: {framework: "DigComp 2.2", competences: [{id: "1.1", level: 1}]}\n',
            encoding="utf-8",
        )
        for index in range(1, 7):
            (folder / f"0{index}-l.md").write_text(
                f"---\nid: m{number}-l{index}\ntitle: L\nminutes: 5\n---\n\n## Teil\n\n{lesson}",
                encoding="utf-8",
            )
    (tmp_path / "qualifications.yaml").write_text("qualifications: []\n", encoding="utf-8")
    clear_render_cache()
    course = load_course(tmp_path)
    assert course.problems == ()
    assert len(course.modules) == 7
    hits, misses, size = render_cache_info()
    assert (hits, misses, size) == (0, 42, 42)
    again = load_course(tmp_path)
    assert len(again.modules) == 7
    assert render_cache_info() == (42, 42, 42)

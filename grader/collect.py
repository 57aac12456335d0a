"""Find the class's submissions, whatever shape they came in, and account for every entry.

    nbgrader      DIR/<student>/<assignment>/*.ipynb   (DIR is the course's submitted/ folder, or a course
                                                        folder that has one)
    per student   DIR/<student>/*.ipynb
    LMS export    DIR/*.ipynb or DIR.zip, each notebook named after its student ("alice.ipynb",
                  "alice_a2_vjp.ipynb"; the student is what `pattern` captures as `student`)

An entry is what a person handed in: each notebook (in a student's folder or loose), each student folder or
assignment folder that holds no notebook, each loose file that is not a notebook. Every entry ends in exactly
one row (one Submission per student): the graded notebook, or listed beside it with a violation that says
why it was not graded (a second copy, an extra notebook), or `invalid` with the reason. Hidden system files
(.DS_Store, .ipynb_checkpoints, __MACOSX, AppleDouble ._ files) are not entries; a hidden notebook is.

Student ids keep the student's name: NFC-normalised Unicode, letters and digits of any script kept, '-', '_'
and '.' kept (not a leading '.'), anything else percent-encoded (UTF-8), so distinct names give distinct ids
that are safe file names ("jo smith" -> "jo%20smith", "jo-smith" stays). Ids longer than MAX_ID_BYTES are cut
and end in '~' and a hash of the whole name ('~' never appears otherwise). Zip files are unpacked with every
name checked (no absolute paths, no '..', size limits). Sizes are checked with stat() before a byte is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .structure import Violation

DEFAULT_PATTERN = r"^(?P<lead>[._\s]*)(?P<student>[^_]*?)\s*(?:_(?P<rest>.*))?$"
MAX_ZIP_BYTES = 512 * 2**20
MAX_FILES = 10_000              # files in one submission; more is `invalid`, not scanned further
MAX_ID_BYTES = 120              # an id is a file name (results/<id>.json.tmp must stay under 255 bytes)
CHUNK = 2**20                   # files are hashed a chunk at a time, never read whole
JUNK_DIRS = {".ipynb_checkpoints", "__MACOSX", "__pycache__"}
APPLEDOUBLE = b"\x00\x05\x16\x07"
COPY_MARK = re.compile(r"(?:\s*\(\d+\)|[\s_-]*copy[\s_-]*\d*)$")


@dataclass
class Submission:
    student: str
    folder: Path | None = None          # the student's files; copied into the sandbox as the working copy
    notebook: Path | None = None        # the notebook graded
    problem: str | None = None          # why it cannot be graded at all
    renamed_from: str | None = None     # the name it was found under, when not the expected one
    fingerprint: str = ""               # hash of the files: unchanged files are not graded again
    name: str = ""                      # the student's name as found (NFC), of which `student` is the id
    entries: list[str] = field(default_factory=list)          # every entry of this row, the graded one first
    violations: list[Violation] = field(default_factory=list)  # what collecting noticed (misnamed, copies)


class Collected(list):
    """The submissions (one per student, sorted by id) and `entries`, every entry found."""

    def __init__(self, submissions: list[Submission], entries: list[str]) -> None:
        super().__init__(submissions)
        self.entries = entries


@dataclass
class Copy:
    """One thing found for a student: a folder to grade from, or a loose file."""

    label: str                          # the entry's path relative to the submissions folder
    path: Path
    is_file: bool
    violations: list[Violation] = field(default_factory=list)


def display(name: str) -> str:
    """A name as messages quote it: valid UTF-8 whatever bytes the file system gave."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def student_id(name: str) -> str:
    """The id (a safe file name) of a student name: distinct NFC names give distinct ids."""
    name = unicodedata.normalize("NFC", name)
    tokens = [c if c.isalnum() or c in "-_." else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogateescape"))
              for c in name]
    if tokens and tokens[0] == ".":
        tokens[0] = "%2E"
    whole = "".join(tokens)
    if len(whole.encode()) <= MAX_ID_BYTES:
        return whole or "~unnamed"
    digest = "~" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    kept, size = [], 0
    for t in tokens:
        size += len(t.encode())
        if size > MAX_ID_BYTES - len(digest):
            break
        kept.append(t)
    return "".join(kept) + digest


def name_key(name: str) -> str:
    """What a name says, for matching it to an assignment: 'A2_vjp', 'a2-vjp', 'a2_vjp (1)' and 'a2_vjp-Copy1'
    all give 'a2vjp'."""
    s = unicodedata.normalize("NFKC", display(name)).casefold()
    while (shorter := COPY_MARK.sub("", s)) != s:
        s = shorter
    return "".join(c for c in s if c.isalnum())


def is_notebook(p: Path) -> bool:
    return p.name.lower().endswith(".ipynb")


def stem_of(p: Path) -> str:
    """The name without its suffix; '.ipynb' (a hidden notebook with no other name) has the stem ''."""
    return p.name[:-6] if is_notebook(p) else (p.stem if p.suffix else p.name)


def is_junk(p: Path) -> bool:
    """System files that are no one's entry: hidden files other than notebooks, checkpoints, AppleDouble files."""
    if p.name in JUNK_DIRS or p.name in (".", ".."):
        return True
    if p.name.startswith("._") and not p.is_symlink() and p.is_file():
        with open(p, "rb") as f:
            return f.read(4) == APPLEDOUBLE
    return p.name.startswith(".") and not (is_notebook(p) and not p.is_dir())


def known_assignments() -> list[str]:
    """The course's assignment ids (their folders and notebooks of other assignments are not entries)."""
    try:
        from .release import assignment_ids

        return assignment_ids()
    except (ImportError, OSError):
        return []


def collect(path: Path, assignment: str, notebook: str, scratch: Path, *, pattern: str = DEFAULT_PATTERN,
            max_bytes: int = 64 * 2**20, others: list[str] | None = None) -> Collected:
    """The submissions under `path` for `assignment`, one per student, sorted by student id, with `entries`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no submissions at {path}")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is a file, not a folder of submissions or a zip of them")
        path = unzip(path, scratch / "unzipped")
    if (path / "submitted").is_dir():
        path = path / "submitted"
    others = {name_key(a) for a in (known_assignments() if others is None else others)} - {name_key(assignment)}
    finder = Finder(path, assignment, notebook, others, pattern)
    items = [p for p in sorted(path.iterdir()) if not is_junk(p)]
    dirs = [p for p in items if p.is_dir()]
    if len(dirs) == 1 and len(items) == 1 and not dirs[0].is_symlink() and not finder.is_student_folder(dirs[0]):
        return collect(dirs[0], assignment, notebook, scratch, pattern=pattern, max_bytes=max_bytes,
                       others=list(others))
    copies: dict[str, list[Copy]] = {}
    for p in items:
        found = finder.folder(p) if p.is_dir() else finder.loose_file(p)
        if found:
            name, student_copies = found
            copies.setdefault(unicodedata.normalize("NFC", name), []).extend(student_copies)
    entries = [c.label for cs in copies.values() for c in cs]
    ids = unique_ids(copies)
    subs = [resolve(ids[name], name, cs, notebook, scratch, max_bytes, finder) for name, cs in copies.items()]
    subs.sort(key=lambda s: s.student)
    found_in_rows = sorted(e for s in subs for e in s.entries)
    assert found_in_rows == sorted(entries), "an entry was lost or counted twice while collecting"
    assert len({s.student for s in subs}) == len(subs), "two students share an id"
    return Collected(subs, entries)


def unique_ids(copies: dict[str, list[Copy]]) -> dict[str, str]:
    """{name: id}. Names whose ids coincide (only a cut id's hash could) each get a longer hash, and a
    violation that says so."""
    ids = {name: student_id(name) for name in copies}
    taken: dict[str, list[str]] = {}
    for name, sid in ids.items():
        taken.setdefault(sid, []).append(name)
    for sid, names in taken.items():
        if len(names) < 2:
            continue
        for name in names:
            digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]
            ids[name] = f"{sid[:MAX_ID_BYTES - 34]}~{digest}"
            copies[name][0].violations.append(Violation(
                "id-clash", f"the student names {', '.join(repr(display(n)) for n in names)} would have had the same "
                f"id '{sid}'; this one is graded as '{ids[name]}'"))
    return ids


class Finder:
    """What a folder or loose file at the top of the submissions folder holds for the assignment."""

    def __init__(self, root: Path, assignment: str, notebook: str, others: set[str], pattern: str) -> None:
        self.root, self.assignment, self.notebook, self.others = root, assignment, notebook, others
        self.key = name_key(assignment)
        self.regex = re.compile(pattern)
        self.default = pattern == DEFAULT_PATTERN

    def label(self, p: Path, folder: bool = False) -> str:
        return display(p.relative_to(self.root).as_posix()) + ("/" if folder else "")

    def elsewhere(self, p: Path) -> bool:
        """A folder or notebook of another assignment of the course."""
        return bool(self.others) and name_key(stem_of(p)) in self.others

    def is_student_folder(self, d: Path) -> bool:
        """A folder of one student (holding the assignment's folder or notebook), not a wrapper folder."""
        return (d / self.notebook).is_file() or any(s.is_dir() and name_key(s.name) == self.key for s in subitems(d))

    def notebooks(self, d: Path) -> list[Path]:
        """The notebooks under `d` that may belong to this assignment, without following links."""
        found = []
        for top, dirs, files in os.walk(d):
            here = Path(top)
            dirs[:] = sorted(x for x in dirs if x not in JUNK_DIRS and not (here == d and self.elsewhere(here / x)))
            found += [here / f for f in sorted(files) if is_notebook(here / f) and not is_junk(here / f)
                      and not self.elsewhere(here / f)]
            if len(found) > MAX_FILES:
                break
        return found

    def folder(self, d: Path) -> tuple[str, list[Copy]] | None:
        """A student's folder: its copies of the assignment (assignment folders, or the folder itself), each
        notebook in it an entry; None when it holds only other assignments."""
        name = d.name
        if d.is_symlink():
            return name, [Copy(self.label(d, True), d, False)]
        inside = subitems(d)
        matching = [s for s in inside if s.is_dir() and name_key(s.name) == self.key]
        notebooks = self.notebooks(d)
        if not matching and not notebooks and inside and all(self.elsewhere(s) for s in inside):
            return None     # this student handed in other assignments, not this one
        copies = []
        for s in matching or [d]:
            misnamed = [Violation("misnamed-folder", f"the assignment folder is named '{display(s.name)}', not "
                                  f"'{self.assignment}'; graded as {self.assignment}")] if s != d and \
                s.name != self.assignment else []
            mine = [n for n in notebooks if s in n.parents]
            copies += [Copy(self.label(n), s, False, list(misnamed)) for n in mine] or \
                [Copy(self.label(s, True), s, False, misnamed)]
        # notebooks outside every assignment folder are entries too, listed with the student's row
        copies += [Copy(self.label(n), n, True) for n in notebooks if not any(c.path in n.parents for c in copies)]
        return name, copies

    def loose_file(self, p: Path) -> tuple[str, list[Copy]] | None:
        """A loose file named after its student; None for another assignment's notebook."""
        stem = stem_of(p)
        m = self.regex.match(stem)
        groups = m.groupdict() if m else {}
        name, lead, rest = groups.get("student") or "", groups.get("lead") or "", groups.get("rest")
        if name_key(stem) in self.others or (rest is not None and name_key(rest) in self.others):
            return None     # alice_a1_backprop.ipynb, when grading a2_vjp
        violations = []
        if not name:
            name = stem or p.name
            if not self.default:
                violations.append(Violation("odd-file-name", f"the file name '{display(p.name)}' does not match "
                                            "--pattern; the whole name was taken as the student's"))
        if lead.strip():
            violations.append(Violation("odd-file-name", f"the file name '{display(p.name)}' starts with "
                                        f"'{display(lead.strip())}' (a hidden or renamed file)"))
        if self.default and rest is not None and rest.strip("_ ") and name_key(rest) != self.key:
            violations.append(Violation("odd-file-name", f"the file name '{display(p.name)}' says more than the "
                                        f"student and the assignment ('{display(rest)}'): a late, extra or "
                                        "renamed submission? Check which file counts"))
        return name, [Copy(self.label(p), p, True, violations)]


def subitems(d: Path) -> list[Path]:
    try:
        return [p for p in sorted(d.iterdir()) if not is_junk(p)]
    except OSError:
        return []


def resolve(sid: str, name: str, copies: list[Copy], notebook: str, scratch: Path, max_bytes: int,
            finder: Finder) -> Submission:
    """One student's row: the newest gradable copy graded, every other entry listed beside it."""
    candidates = [(copy_rank(c, finder), i) for i, c in enumerate(copies)]
    best = copies[max(candidates)[1]]
    sub = prepare(sid, best, notebook, scratch, max_bytes, finder)
    sub.name = unicodedata.normalize("NFC", name)
    labels = [c.label for c in copies]
    graded = finder.label(sub.notebook) if sub.notebook and best.path in sub.notebook.parents else best.label
    graded = graded if graded in labels else best.label
    others = [x for x in labels if x != graded]
    sub.entries = [graded, *others]
    sub.violations = [v for c in copies for v in c.violations if c is best or v.code == "id-clash"]
    if others:
        same = [o for o in others if any(c.label == o and c.path == best.path for c in copies)]
        if same:
            sub.violations.append(Violation("extra-notebook", f"{len(same) + 1} notebooks in one submission: "
                                            f"graded '{graded}'; not graded: {quote_all(same)}"))
        elsewhere = [o for o in others if o not in same]
        if elsewhere:
            sub.violations.append(Violation("duplicate-copies", f"{len(elsewhere) + 1} copies handed in: graded "
                                            f"'{graded}' (the newest gradable one); not graded: "
                                            f"{quote_all(elsewhere)}. Check which one counts"))
    extra = json.dumps([sub.entries, [v.to_dict() for v in sub.violations]]).encode()
    sub.fingerprint = hashlib.sha256(sub.fingerprint.encode() + extra).hexdigest()
    return sub


def quote_all(labels: list[str], most: int = 6) -> str:
    more = f" and {len(labels) - most} more" if len(labels) > most else ""
    return ", ".join(f"'{x}'" for x in labels[:most]) + more


def copy_rank(c: Copy, finder: Finder) -> tuple:
    """Gradable first, then the newest, then the expected name: the copy a row grades."""
    try:
        st = c.path.lstat() if c.is_file else None
        gradable = not c.path.is_symlink() and (not c.is_file or is_notebook(c.path))
        newest = st.st_mtime_ns if st else max((n.stat().st_mtime_ns for n in finder.notebooks(c.path)), default=0)
    except OSError:
        gradable, newest = False, 0
    expected = c.path.name in (finder.assignment, finder.notebook) or not c.violations
    return gradable, newest, expected, c.label


def prepare(sid: str, c: Copy, notebook: str, scratch: Path, max_bytes: int, finder: Finder) -> Submission:
    """The Submission of one copy: a folder as it is, a loose notebook copied into a folder of its own."""
    if not c.is_file:
        return from_folder(sid, c.path, notebook, max_bytes, candidates=finder.notebooks(c.path))
    if c.path.is_symlink():
        return Submission(sid, problem="the notebook is a symbolic link; submit the file itself")
    if not is_notebook(c.path):
        return Submission(sid, problem=f"'{display(c.path.name)}' is not a notebook (.ipynb)",
                          fingerprint=stat_fingerprint(c.path.parent, [c.path]))
    size = c.path.stat().st_size
    if size > max_bytes:
        return Submission(sid, problem=too_big(size, max_bytes), fingerprint=stat_fingerprint(c.path.parent, [c.path]))
    folder = scratch / "collected" / sid
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(c.path, folder / notebook)
    sub = from_folder(sid, folder, notebook, max_bytes)
    if c.path.parent != finder.root and name_key(stem_of(c.path)) != name_key(Path(notebook).stem):
        sub.renamed_from = display(c.path.name)     # a notebook in a student's folder, not an LMS file
    return sub


def too_big(size: int, max_bytes: int) -> str:
    return f"the submission holds {size / 2**20:.0f} MiB of files, more than the {max_bytes >> 20} MiB allowed"


def scan(folder: Path) -> tuple[list[Path], list[Path], bool]:
    """(files, symbolic links, whether there were more than MAX_FILES) under `folder`, links not followed."""
    files, links = [], []
    for top, dirs, names in os.walk(folder):
        here = Path(top)
        links += [here / d for d in dirs if (here / d).is_symlink()]
        for n in names:
            (links if (here / n).is_symlink() else files).append(here / n)
        if len(files) > MAX_FILES:
            return files, links, True
    return sorted(files), links, False


def from_folder(student: str, folder: Path, notebook: str, max_bytes: int, *,
                candidates: list[Path] | None = None) -> Submission:
    """The Submission of a folder: sizes checked by stat() before anything is read. The notebook graded is
    the expected one, else the likeliest of `candidates` (default: every notebook in the folder)."""
    if folder.is_symlink():
        return Submission(student, folder, problem=f"the submission is a symbolic link ({display(folder.name)}); "
                          "submit the files themselves")
    files, links, too_many = scan(folder)
    if links:
        return Submission(student, folder, problem="the submission contains symbolic links "
                          f"({', '.join(display(str(p.relative_to(folder))) for p in links[:3])}); "
                          "submit the files themselves")
    if too_many:
        return Submission(student, folder, problem=f"the submission holds more than {MAX_FILES} files")
    size = sum(p.lstat().st_size for p in files)
    if size > max_bytes:
        return Submission(student, folder, problem=too_big(size, max_bytes),
                          fingerprint=stat_fingerprint(folder, files))
    files = [p for p in files if not JUNK_DIRS & set(p.relative_to(folder).parts)]
    sub = Submission(student, folder, fingerprint=fingerprint(folder, files))
    expected = folder / notebook
    if expected.is_file():
        sub.notebook = expected
        return sub
    notebooks = [p for p in files if is_notebook(p) and not is_junk(p)] if candidates is None else candidates
    if not notebooks:
        sub.problem = f"no notebook found (expected {notebook})"
        return sub
    sub.notebook = max(notebooks, key=lambda p: (p.parent == folder, p.stat().st_size, p.name))
    sub.renamed_from = display(str(sub.notebook.relative_to(folder)))
    return sub


def fingerprint(folder: Path, files: list[Path]) -> str:
    """Hash of the files' names and contents, each read a chunk at a time."""
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(folder)).encode("utf-8", "surrogateescape") + b"\0")
        inner = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(CHUNK):
                inner.update(chunk)
        h.update(inner.digest())
    return h.hexdigest()


def stat_fingerprint(folder: Path, files: list[Path]) -> str:
    """Hash of the files' names, sizes and times, for a submission that is not read (too large)."""
    h = hashlib.sha256(b"stat\0")
    for p in files:
        st = p.lstat()
        h.update(f"{p.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def unzip(archive: Path, dest: Path) -> Path:
    """Extract an LMS zip into `dest`, refusing unsafe names and oversized contents."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise ValueError(f"{archive} unpacks to more than {MAX_ZIP_BYTES >> 20} MiB; unpack it yourself")
        for info in infos:
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ValueError(f"{archive} contains an unsafe path {info.filename!r}; refusing to unpack it")
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest

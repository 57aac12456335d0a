"""Find the class's submissions, whatever shape they came in.

    nbgrader      DIR/<student>/<assignment>/*.ipynb   (DIR is the course's submitted/ folder, or a course
                                                        folder that has one)
    per student   DIR/<student>/*.ipynb
    LMS export    DIR/*.ipynb or DIR.zip, each notebook named after its student ("alice.ipynb",
                  "alice_a2_vjp.ipynb"; the student id is what `pattern` captures as `student`)

Student ids become file and folder names, so only letters, digits, '.', '_' and '-' are kept. Zip files are
unpacked with every name checked (no absolute paths, no '..', size limits).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATTERN = r"^(?P<student>[A-Za-z0-9][A-Za-z0-9.-]*)"
MAX_ZIP_BYTES = 512 * 2**20


@dataclass
class Submission:
    student: str
    folder: Path | None = None          # the student's files; copied into the sandbox as the working copy
    notebook: Path | None = None        # the notebook graded
    problem: str | None = None          # why it cannot be graded at all
    renamed_from: str | None = None     # the name it was found under, when not the expected one
    fingerprint: str = ""               # hash of the files: unchanged files are not graded again


def safe_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", name).strip(".-")[:64] or "unnamed"


def collect(path: Path, assignment: str, notebook: str, scratch: Path, *, pattern: str = DEFAULT_PATTERN,
            max_bytes: int = 64 * 2**20) -> list[Submission]:
    """The submissions under `path` for `assignment`, one per student, sorted by student id."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no submissions at {path}")
    if path.is_file() and zipfile.is_zipfile(path):
        path = unzip(path, scratch / "unzipped")
    if (path / "submitted").is_dir():
        path = path / "submitted"
    entries = [p for p in sorted(path.iterdir()) if not p.name.startswith(".")]
    dirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.suffix == ".ipynb"]
    if len(dirs) == 1 and not loose and not is_student_folder(dirs[0], assignment, notebook):
        return collect(dirs[0], assignment, notebook, scratch, pattern=pattern, max_bytes=max_bytes)
    found: dict[str, Submission] = {}
    nbgrader_layout = any((d / assignment).is_dir() for d in dirs)
    for d in dirs:
        if nbgrader_layout and not (d / assignment).is_dir():
            continue    # this student submitted other assignments, not this one
        folder = d / assignment if nbgrader_layout else d
        found[safe_id(d.name)] = from_folder(safe_id(d.name), folder, notebook, max_bytes)
    regex = re.compile(pattern)
    for nb in (p for p in entries if p.is_file() and p.suffix == ".ipynb"):
        m = regex.match(nb.stem)
        if not m:
            continue
        student = safe_id(m.group("student"))
        if nb.is_symlink():
            found[student] = Submission(student, problem="the notebook is a symbolic link; submit the file itself")
            continue
        folder = scratch / "collected" / student
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy(nb, folder / notebook)
        found[student] = from_folder(student, folder, notebook, max_bytes)
    return [found[s] for s in sorted(found)]


def is_student_folder(d: Path, assignment: str, notebook: str) -> bool:
    """A folder of one student (holding the assignment's folder or notebook), not a wrapper folder."""
    return (d / assignment).is_dir() or (d / notebook).is_file()


def from_folder(student: str, folder: Path, notebook: str, max_bytes: int) -> Submission:
    links = [p for p in folder.rglob("*") if p.is_symlink()]
    if links or folder.is_symlink():
        return Submission(student, folder, problem="the submission contains symbolic links "
                          f"({', '.join(str(p.relative_to(folder)) for p in links[:3]) or folder.name}); "
                          "submit the files themselves")
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    size = sum(p.stat().st_size for p in files)
    sub = Submission(student, folder, fingerprint=fingerprint(folder, files))
    if size > max_bytes:
        sub.problem = (f"the submission holds {size / 2**20:.0f} MiB of files, more than the {max_bytes >> 20} MiB "
                       "allowed")
        return sub
    expected = folder / notebook
    if expected.is_file():
        sub.notebook = expected
        return sub
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    if not notebooks:
        sub.problem = f"no notebook found (expected {notebook})"
        return sub
    sub.notebook = max(notebooks, key=lambda p: (p.parent == folder, p.stat().st_size))
    sub.renamed_from = str(sub.notebook.relative_to(folder))
    return sub


def fingerprint(folder: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
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

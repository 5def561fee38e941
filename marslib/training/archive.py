"""One archive of reference records for one data file: packed by an instructor, installed by
students, so that the chapters show converged runs on the course's real file without training.

    python -m marslib references pack --data mars_for_students.npz      # -> an archive (.zip)
    python -m marslib references install ARCHIVE --data mars_for_students.npz

An archive is a zip file (the standard library's `zipfile`; a record's ``model.keras`` is a zip
file itself) laid out as a references folder, with a manifest at its root::

    manifest.json                      {"format", "format_version", "data_fingerprint",
                                        "code_versions", "marslib_version", "records": [...]}
    <name>-<key>/config.json ...       a current-recipe record (`run_records.RECORD_FILES`)
    previous_recipe/<name>-<key>/...   a previous-recipe record

Each entry of "records" names a record's folder, its run, seed and recipe, and the SHA-256 of
every one of its files. An archive is untrusted input: `install` reads the manifest and checks
every entry before it writes anything, and refuses (ValueError, saying why) a file that is not a
zip archive or whose entries do not read back, an archive without a valid manifest, one for
another data fingerprint or other code versions, an entry with an absolute path, a ``..`` part,
a backslash or a drive letter, a link or anything but a plain file, a file over `MAX_FILE_BYTES`
(or an archive over `MAX_TOTAL_BYTES` unpacked), a file the manifest does not list or whose bytes
differ from its hash, and a record that is damaged (`run_records.damage`) or trained on other
data. It writes only inside its target folder, first into a hidden staging folder there, then
moves each checked record into place. Its models load later with Keras' safe mode on
(`RunRecord.load_model`), so a model file cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import marslib
from marslib.core import versions
from marslib.core.files import read_json
from marslib.training import run_records

FORMAT = "marslib-references"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUFFIX = ".zip"
# No file of a record comes near these (a quick-width model is a few MB; the 22 runs' previous
# records are 20 MB together): anything larger is not an archive `pack` made.
MAX_FILE_BYTES = 512 * 2**20
MAX_TOTAL_BYTES = 4 * 2**30
MAX_ENTRIES = 10_000
_CHUNK = 2**20


@dataclass(frozen=True)
class Installed:
    """What `install` did.

    Attributes:
        target: the references folder written into.
        fingerprint: the data fingerprint the records were trained on.
        records: the record folders installed (current recipe first, then previous recipe).
    """

    target: Path
    fingerprint: str
    records: list[Path]


def archive_name(fingerprint: str) -> str:
    """The file name `pack` gives an archive by default: ``references-<fingerprint>.zip``."""
    return f"references-{fingerprint}{SUFFIX}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def packable(fingerprint: str) -> list[tuple[str, Path]]:
    """The finished reference records trained on data `fingerprint`, as (archive folder, record
    folder): those of the current recipe made by this marslib's code versions (``name-key``),
    then the previous recipe's (``previous_recipe/name-key``), from `run_records.
    reference_folders()`; a folder found twice (in two reference folders) is taken once."""
    code = versions.versions(versions.RUN_PARTS)
    found: dict[str, Path] = {}
    for root in run_records.reference_folders():
        previous = run_records.PREVIOUS_RECIPE
        for prefix, base in (("", root), (f"{previous}/", root / previous)):
            for done in sorted(base.glob("*/DONE")):
                directory = done.parent
                relative = f"{prefix}{directory.name}"
                if relative in found or not run_records.is_complete(directory):
                    continue
                provenance = read_json(directory / "provenance.json")
                if provenance.get("data_fingerprint") != fingerprint:
                    continue
                if not prefix and provenance.get("code_versions") != code:
                    continue  # made by other code: its key no longer names it
                found[relative] = directory
    current = sorted(k for k in found if "/" not in k)
    previous = sorted(k for k in found if "/" in k)
    return [(key, found[key]) for key in (*current, *previous)]


def pack(fingerprint: str, output: Path | str) -> Path:
    """Write the archive of every reference record trained on data `fingerprint` (`packable`).

    Args:
        fingerprint: the data's `MarsData.fingerprint`.
        output: the archive's path (``.zip``); written to a temporary name, then renamed.

    Returns:
        The archive's path.

    Raises:
        ValueError: no finished reference record was trained on that data, or `output` does not
            end in ``.zip``.
    """
    output = Path(output)
    if output.suffix != SUFFIX:
        raise ValueError(f"the archive's name must end in {SUFFIX}, got {output.name!r}")
    chosen = packable(fingerprint)
    if not chosen:
        raise ValueError(
            f"no finished reference record was trained on data {fingerprint} in "
            f"{[str(f) for f in run_records.reference_folders()]}: train and publish them "
            "first (python -m marslib experiments run all --profile reference --seeds 0 1 2 "
            "--data FILE, then experiments publish all with the same options)"
        )
    entries = []
    for relative, directory in chosen:
        config = read_json(directory / "config.json")
        entries.append(
            {
                "path": relative,
                "name": config["name"],
                "seed": config.get("seed"),
                "recipe": "previous" if "/" in relative else "current",
                "files": {name: _sha256(directory / name) for name in run_records.RECORD_FILES},
            }
        )
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "data_fingerprint": fingerprint,
        "code_versions": versions.versions(versions.RUN_PARTS),
        "marslib_version": marslib.__version__,
        "records": entries,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
            for (relative, directory), entry in zip(chosen, entries, strict=True):
                for name in entry["files"]:
                    archive.write(directory / name, f"{relative}/{name}")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def _refuse(archive: Path, why: str) -> ValueError:
    return ValueError(f"{archive} is refused: {why}")


def _check_name(archive: Path, info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's path, relative and inside the target, or a refusal naming the entry."""
    name = info.filename
    path = PurePosixPath(name)
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _refuse(archive, f"its entry {name!r} has an absolute or Windows path")
    if any(part in ("..", ".", "") for part in name.rstrip("/").split("/")):
        raise _refuse(archive, f"its entry {name!r} has a '..', '.' or empty part")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.is_dir() or (kind and kind != stat.S_IFREG):
        what = "a link" if kind == stat.S_IFLNK else "a folder or a special file"
        raise _refuse(archive, f"its entry {name!r} is {what}, not a plain file")
    if info.file_size > MAX_FILE_BYTES:
        raise _refuse(
            archive,
            f"its entry {name!r} unpacks to {info.file_size} bytes, over the limit of "
            f"{MAX_FILE_BYTES} for one file",
        )
    return path


def _read_manifest(archive: Path, opened: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(opened.read(MANIFEST))
    except KeyError:
        raise _refuse(archive, f"it has no {MANIFEST} (not packed by marslib)") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise _refuse(archive, f"its {MANIFEST} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(archive, f"its {MANIFEST} is not a {FORMAT!r} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            archive,
            f"its format version is {manifest.get('format_version')!r}; this marslib reads "
            f"{FORMAT_VERSION}",
        )
    if not isinstance(manifest.get("records"), list) or not manifest["records"]:
        raise _refuse(archive, f"its {MANIFEST} lists no records")
    return manifest


def install(
    archive: Path | str,
    fingerprint: str,
    into: Path | str | None = None,
) -> Installed:
    """Check the archive (see the module docstring) and install its records into `into`.

    Args:
        archive: a file made by `pack`.
        fingerprint: the `MarsData.fingerprint` of the data the book will run on; the archive
            must hold records trained on it.
        into: the references folder to write into (default: `$MARSLIB_REFERENCES`, else
            `run_records.REFERENCES_DIR`); created if missing. A record already there is
            replaced by the archive's.

    Returns:
        What was installed (`Installed`).

    Raises:
        ValueError: the archive is refused; the message says why and names the entry.
        FileNotFoundError: no file at `archive`.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise FileNotFoundError(f"no archive at {archive}")
    if into is not None:
        target = Path(into)
    elif os.environ.get("MARSLIB_REFERENCES"):
        target = Path(os.environ["MARSLIB_REFERENCES"]).expanduser()
    else:
        target = run_records.REFERENCES_DIR
    if not zipfile.is_zipfile(archive):
        raise _refuse(archive, "it is not a zip archive (damaged, cut short, or not made by pack)")
    try:
        with zipfile.ZipFile(archive) as opened:
            return _install(archive, opened, fingerprint, target)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise _refuse(archive, f"it is damaged ({type(error).__name__}: {error})") from None


def _install(archive: Path, opened: zipfile.ZipFile, fingerprint: str, target: Path) -> Installed:
    infos = opened.infolist()
    if len(infos) > MAX_ENTRIES:
        raise _refuse(archive, f"it has {len(infos)} entries, over the limit of {MAX_ENTRIES}")
    names = {info.filename: _check_name(archive, info) for info in infos}
    if len(names) != len(infos):
        raise _refuse(archive, "it holds an entry twice")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise _refuse(archive, f"it unpacks to {total} bytes, over the limit of {MAX_TOTAL_BYTES}")
    manifest = _read_manifest(archive, opened)
    if manifest.get("data_fingerprint") != fingerprint:
        raise _refuse(
            archive,
            f"its records were trained on data {manifest.get('data_fingerprint')!r}, but the "
            f"data in use has the fingerprint {fingerprint!r} (another file, or another version "
            "of it): install the archive made for this file, or name the file its records "
            "were trained on with --data",
        )
    code = versions.versions(versions.RUN_PARTS)
    if manifest.get("code_versions") != code:
        raise _refuse(
            archive,
            f"it was packed by marslib {manifest.get('marslib_version')} with code versions "
            f"{manifest.get('code_versions')}; this marslib's are {code}, so its records' keys "
            "would not match what this code trains: use the archive made for this version of "
            "the book, or have the references trained again with it",
        )
    expected: dict[str, str] = {}
    folders: list[str] = []
    for entry in manifest["records"]:
        relative = str(entry.get("path", "")) if isinstance(entry, dict) else ""
        parts = relative.split("/")
        well_formed = (
            len(parts) == 1 or (len(parts) == 2 and parts[0] == run_records.PREVIOUS_RECIPE)
        ) and all(part not in ("", ".", "..") and "\\" not in part for part in parts)
        files = entry.get("files") if isinstance(entry, dict) else None
        if not well_formed or not isinstance(files, dict):
            raise _refuse(archive, f"its {MANIFEST} lists a record {relative!r} it cannot hold")
        if sorted(files) != sorted(run_records.RECORD_FILES):
            raise _refuse(
                archive,
                f"its record {relative!r} lists the files {sorted(files)}; expected "
                f"{sorted(run_records.RECORD_FILES)}",
            )
        folders.append(relative)
        expected |= {f"{relative}/{name}": str(digest) for name, digest in files.items()}
    unlisted = sorted(set(names) - set(expected) - {MANIFEST})
    if unlisted:
        raise _refuse(archive, f"it holds entries its manifest does not list: {unlisted[:5]}")
    absent = sorted(set(expected) - set(names))
    if absent:
        raise _refuse(archive, f"it lacks files its manifest lists: {absent[:5]}")

    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".install-{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name, digest in sorted(expected.items()):
            _extract(archive, opened, name, staging / Path(*names[name].parts), digest)
        for relative in folders:
            problem = run_records.damage(staging / relative)
            if problem is not None:
                raise _refuse(archive, f"its record {relative} is damaged: {problem}")
            trained_on = read_json(staging / relative / "provenance.json").get("data_fingerprint")
            if trained_on != fingerprint:
                raise _refuse(
                    archive,
                    f"its record {relative} was trained on data {trained_on!r}, not on "
                    f"{fingerprint!r} as its manifest says",
                )
        installed = []
        for relative in folders:
            final = target / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(staging / relative, final)
            installed.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Installed(target=target, fingerprint=fingerprint, records=installed)


def _extract(
    archive: Path, opened: zipfile.ZipFile, name: str, destination: Path, digest: str
) -> None:
    """Copy one entry to `destination` (inside the staging folder), at most `MAX_FILE_BYTES`,
    and check its SHA-256 against the manifest's."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    hashed, written = hashlib.sha256(), 0
    with opened.open(name) as source, destination.open("xb") as sink:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            written += len(chunk)
            if written > MAX_FILE_BYTES:
                raise _refuse(archive, f"its entry {name!r} unpacks to more than {MAX_FILE_BYTES}")
            hashed.update(chunk)
            sink.write(chunk)
    if hashed.hexdigest() != digest:
        raise _refuse(archive, f"its entry {name!r} does not match the manifest's hash (damaged)")

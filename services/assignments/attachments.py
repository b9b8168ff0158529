"""Files a unit attaches to its assignment: type checked by content, stored once per content hash."""

import hashlib
import io
import zipfile

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.assignments import audit
from services.assignments.access import ensure_acts_for
from services.assignments.auth import Actor
from services.assignments.errors import Invalid, NotFound
from services.assignments.models import Attachment, AttachmentBlob, StatusUpdate
from services.assignments.tracking import visible_assignment
from shared.problems import Problem

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAME_MAX = 255


def media_type(content: bytes) -> str | None:
    """The media type the bytes are (PDF, DOCX, XLSX, PNG, JPEG), whatever the file is called; else None."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _office_type(content)
    return None


def _office_type(content: bytes) -> str | None:
    """DOCX or XLSX by the parts the zip holds (only its directory is read, nothing is unpacked)."""
    try:
        names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(name.startswith("word/") for name in names):
        return DOCX
    if any(name.startswith("xl/") for name in names):
        return XLSX
    return None


def clean_name(name: str) -> str:
    """The file's own name (no folders, no control characters), cut to what a row holds."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[-NAME_MAX:] or "tep-dinh-kem"


def attach(
    session: Session, *, actor: Actor, assignment_id: int, file_name: str, content: bytes, max_bytes: int,
    update_id: int | None = None,
) -> Attachment:
    """Attach a file to an assignment (officer of its unit): 413 over `max_bytes`, 422 for a type not taken."""
    assignment = visible_assignment(session, actor=actor, assignment_id=assignment_id)
    ensure_acts_for(actor, assignment.unit_id, "attach files to its assignment")
    if len(content) > max_bytes:
        raise Problem(413, f"The file is larger than the limit of {max_bytes} bytes.")
    kind = media_type(content)
    if kind is None:
        raise Invalid("Attach a PDF, DOCX, XLSX, PNG or JPEG file.")
    if update_id is not None:
        update = session.get(StatusUpdate, update_id)
        if update is None or update.assignment_id != assignment_id:
            raise NotFound("Update", update_id)
    digest = hashlib.sha256(content).hexdigest()
    _store_blob(session, digest, content)
    row = Attachment(assignment_id=assignment_id, update_id=update_id, blob_sha256=digest,
                     file_name=clean_name(file_name), media_type=kind, size=len(content),
                     uploaded_by_id=actor.official_id)
    session.add(row)
    session.flush()
    audit.record(session, actor, action="attachment.add", entity_type="attachment", entity_id=row.id,
                 changes={"assignment_id": assignment_id, "update_id": update_id, "file_name": row.file_name,
                          "media_type": kind, "size": row.size, "sha256": digest})
    return row


def _store_blob(session: Session, digest: str, content: bytes) -> None:
    """Keep the bytes unless the same content is stored already (also when stored concurrently)."""
    if session.get(AttachmentBlob, digest) is not None:
        return
    try:
        with session.begin_nested():
            session.add(AttachmentBlob(sha256=digest, size=len(content), content=content))
    except IntegrityError:  # another upload of the same bytes won the race: theirs is ours
        pass


def attachments_of(session: Session, assignment_id: int) -> list[Attachment]:
    """An assignment's attachments, oldest first (the caller has checked it may read the assignment)."""
    return list(session.exec(select(Attachment).where(Attachment.assignment_id == assignment_id)
                             .order_by(col(Attachment.id))).all())


def read(session: Session, *, actor: Actor, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, for whoever may read its assignment; 404 for anyone else."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound("Attachment", attachment_id)
    try:
        visible_assignment(session, actor=actor, assignment_id=row.assignment_id)
    except NotFound:
        raise NotFound("Attachment", attachment_id) from None
    blob = session.get(AttachmentBlob, row.blob_sha256)
    assert blob is not None
    return row, blob.content

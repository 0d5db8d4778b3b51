"""The import page: upload a CRM export, check the mapping on a preview, import.

The uploaded file is kept under ``DATA_DIR/imports`` with a random name and referred to
by a signed token (which names the file and the user), so the preview and the import
read the same bytes without the browser sending them twice. Files are deleted after the
import and swept after a day. Reading, mapping and importing are ``importers``' job.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.intake import importers

# Roles that may import: the marketing side (SDRs and their head) and administrators.
IMPORT_ROLES = frozenset({Role.ADMIN, Role.HEAD_MARKETING, Role.SDR})
_SALT = "leadrelay.intake.import"
_TOKEN_AGE = 24 * 3600
_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx|txt)")
PREVIEW_ROWS = 10


def may_import(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.role in IMPORT_ROLES)
    )


def _importer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not may_import(user):
        raise PermissionDenied(_("Your role may not import leads."))
    return user


def _store_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _sweep(directory: Path) -> None:
    """Forget uploads nobody imported within a day."""
    cutoff = time.time() - _TOKEN_AGE
    for old in directory.iterdir():
        try:
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue


@dataclass(frozen=True)
class _Upload:
    path: Path
    filename: str
    preset: str
    token: str


def _load(token: str, user: User) -> _Upload | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=_TOKEN_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        return None
    stored = str(data.get("f", ""))
    if not _STORED_NAME.fullmatch(stored):
        return None
    path = _store_dir() / stored
    if not path.is_file():
        return None
    preset = str(data.get("p", "auto"))
    if preset not in importers.PRESET_NAMES:
        preset = "auto"
    return _Upload(path=path, filename=str(data.get("n", "")), preset=preset, token=token)


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))
    preset = forms.ChoiceField(
        label=gettext_lazy("Exported from"),
        choices=[
            ("auto", gettext_lazy("Detect automatically")),
            *[(name, importers.PRESET_LABELS[name]) for name in importers.PRESETS],
        ],
        initial="auto",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > importers.MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is too large to import."))
        return upload


def _field_choices() -> list[tuple[str, Any]]:
    return [
        ("", gettext_lazy("— other fields (kept on the lead) —")),
        *[(name, importers.FIELD_LABELS[name]) for name in importers.FIELDS],
    ]


def _mapping_from(post: QueryDict, mapping: importers.Mapping) -> importers.Mapping:
    """The preview form's choices (``col_<index>``) over the planned mapping."""
    overrides: dict[int, str | None] = {}
    for column in mapping.columns:
        key = f"col_{column.index}"
        if key in post:
            value = post.get(key, "")
            overrides[column.index] = value if value in importers.FIELDS else None
    return mapping.with_fields(overrides)


def _read(upload: _Upload) -> importers.Table:
    return importers.read_table(upload.path, upload.filename)


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        name = Path(uploaded.name or "").name
        data = b"".join(uploaded.chunks())
        try:
            table = importers.read_table(data, name)
            importers.check_mapping(importers.plan_mapping(table.headers, "auto"))
        except importers.ImportFileError as exc:
            error = str(exc)
        else:
            del table
            directory = _store_dir()
            _sweep(directory)
            suffix = ".xlsx" if data.startswith(b"PK\x03\x04") else ".csv"
            stored = secrets.token_hex(16) + suffix
            (directory / stored).write_bytes(data)
            (directory / stored).chmod(0o600)
            token = signing.dumps(
                {"f": stored, "u": user.pk, "n": name, "p": form.cleaned_data["preset"]},
                salt=_SALT,
            )
            return redirect(f"{reverse('intake:import_preview')}?t={token}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "intake/import.html",
        {"form": form, "error": error, "nav": "import"},
        status=status,
    )


def _preview_context(
    upload: _Upload, table: importers.Table, mapping: importers.Mapping
) -> dict[str, Any]:
    rows = list(importers.iter_preview(table, mapping, PREVIEW_ROWS))
    return {
        "upload": upload,
        "table": table,
        "mapping": mapping,
        "choices": _field_choices(),
        "rows": rows,
        "presets": [(n, importers.PRESET_LABELS[n]) for n in importers.PRESET_NAMES],
        "preset_label": (
            _("common column names (no particular CRM)")
            if mapping.preset == "generic"
            else importers.PRESET_LABELS.get(mapping.preset, mapping.preset)
        ),
        "delimiter_label": {",": ",", ";": ";", "\t": "Tab"}.get(table.delimiter or "", ""),
        "nav": "import",
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    token = request.POST.get("t") or request.GET.get("t") or ""
    upload = _load(token, user)
    if upload is None:
        return _expired(request)
    preset = request.POST.get("preset") or upload.preset
    if preset not in importers.PRESET_NAMES:
        preset = upload.preset
    try:
        table = _read(upload)
    except importers.ImportFileError as exc:
        return render(
            request, "intake/import.html", {"form": UploadForm(), "error": str(exc)}, status=400
        )
    mapping = importers.plan_mapping(table.headers, preset)
    if request.method == "POST" and request.POST.get("preset") == upload.preset:
        mapping = _mapping_from(request.POST, mapping)
    error = ""
    try:
        importers.check_mapping(mapping)
    except importers.ImportFileError as exc:
        error = str(exc)
    context = _preview_context(upload, table, mapping)
    context.update({"error": error, "preset": preset})
    if preset != upload.preset:
        # A new preset: start from its own mapping, and remember it in the token.
        payload = signing.loads(token, salt=_SALT, max_age=_TOKEN_AGE)
        payload["p"] = preset
        context["upload"] = _Upload(
            upload.path, upload.filename, preset, signing.dumps(payload, salt=_SALT)
        )
    return render(request, "intake/import_preview.html", context)


def _expired(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/import.html",
        {
            "form": UploadForm(),
            "error": _("The uploaded file has expired or is not yours; upload it again."),
            "nav": "import",
        },
        status=400,
    )


@login_required
@require_POST
def import_run(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    upload = _load(request.POST.get("t", ""), user)
    if upload is None:
        return _expired(request)
    try:
        table = _read(upload)
    except importers.ImportFileError as exc:
        return render(
            request, "intake/import.html", {"form": UploadForm(), "error": str(exc)}, status=400
        )
    mapping = _mapping_from(request.POST, importers.plan_mapping(table.headers, upload.preset))
    dry_run = request.POST.get("dry_run") == "1"
    atomic = request.POST.get("atomic") == "1"
    try:
        summary = importers.import_rows(table, mapping, dry_run=dry_run, atomic=atomic, actor=user)
    except importers.ImportFileError as exc:
        context = _preview_context(upload, table, mapping)
        context.update({"error": str(exc), "preset": upload.preset})
        return render(request, "intake/import_preview.html", context, status=400)
    if not dry_run and not summary.aborted:
        upload.path.unlink(missing_ok=True)
    return render(
        request,
        "intake/import_done.html",
        {
            "summary": summary,
            "upload": upload,
            "table": table,
            "mapping": mapping,
            "kept": dry_run or summary.aborted,
            "nav": "import",
        },
    )

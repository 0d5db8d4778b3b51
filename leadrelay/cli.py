"""The ``leadrelay`` command: serve, worker, demo, user, token, source, import, payments,
manage.

A command that prints data takes ``--json`` and then prints one JSON document on stdout;
progress and logs go to stderr. Bad input exits non-zero with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
    import django

    try:
        django.setup()
    except OSError as exc:  # the data directory is a file, or not writable
        where = exc.filename or os.environ.get("LEADRELAY_DATA_DIR", "the data directory")
        raise UsageError(f"data directory {where}: {exc.strerror or exc}") from None


def _print(data: Any, as_json: bool, text: str) -> None:
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print(text)


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def ensure_admin() -> str | None:
    """On an empty database create ``admin`` and return its one-time password."""
    from django.db import transaction

    from leadrelay.accounts.models import User
    from leadrelay.accounts.roles import Role

    with transaction.atomic():
        if User.objects.exists():
            return None
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "", password, role=Role.ADMIN)
    return password


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    from django.db import connections

    from leadrelay import server

    _migrate()
    password = ensure_admin()
    if password:
        print(
            f"Created the administrator: user 'admin', password '{password}' "
            "(shown once; change it after logging in).",
            flush=True,
        )
    if args.demo:
        from leadrelay.demo import has_leads, load_demo

        if has_leads():
            print("The database already has leads: --demo loads nothing.", file=sys.stderr)
        else:
            summary = load_demo(leads=args.demo_leads, seed=1, progress=True)
            for line in summary.get("passwords", []):
                print(line, flush=True)
    # Nothing may be inherited by the forked web workers: a pooled PostgreSQL connection
    # opened here would be shared by every worker process after the fork.
    for conn in connections.all(initialized_only=True):
        conn.close()
        if hasattr(conn, "close_pool"):
            conn.close_pool()
    return server.run(host=args.host, port=args.port, with_worker=not args.no_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from leadrelay.worker import run_worker

    return run_worker(once=args.once)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.leads < 0:
        raise UsageError("--leads must be 0 or more")
    _setup()
    from leadrelay.demo import has_leads, load_demo

    _migrate()
    if has_leads() and not args.force:
        raise UsageError("the database already has leads; pass --force to add demo data anyway")
    summary = load_demo(leads=args.leads, seed=args.seed, progress=not args.json)
    lines = [f"Loaded {summary['leads']} demo leads in {summary['seconds']:.1f} s."]
    text = "\n".join([*lines, *summary.get("passwords", [])])
    _print(summary, args.json, text)
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    _setup()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from leadrelay.accounts.models import Department, User
    from leadrelay.accounts.roles import Role

    _migrate()
    if args.role not in Role.values:
        raise UsageError(f"unknown role {args.role!r}; choose one of: {', '.join(Role.values)}")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UsageError("no password on standard input")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise UsageError("; ".join(exc.messages)) from None
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    department = None
    if args.department:
        department = Department.objects.filter(name=args.department).first()
        if department is None:
            raise UsageError(f"no department named {args.department!r}")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                args.name,
                args.email or "",
                password,
                role=args.role,
                first_name=args.first_name or "",
                last_name=args.last_name or "",
                department=department,
                is_staff=args.role == Role.ADMIN,
                is_superuser=args.role == Role.ADMIN,
            )
    except IntegrityError:
        raise UsageError(f"a user named {args.name!r} already exists") from None
    data: dict[str, Any] = {"id": user.pk, "username": user.username, "role": user.role}
    text = f"Created user {user.username} ({user.role})."
    if generated:
        data["password"] = password
        text += f"\nPassword: {password}"
    _print(data, args.json, text)
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    _setup()
    from leadrelay.accounts.models import ApiToken, User

    _migrate()

    user = User.objects.filter(username=args.name, is_active=True).first()
    if user is None:
        raise UsageError(f"no active user named {args.name!r}")
    _, raw = ApiToken.issue(user, name=args.label or "")
    _print({"user": user.username, "token": raw}, args.json, raw)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    path = args.file
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    _setup()
    from django.utils import translation

    from leadrelay.intake import importers

    translation.activate("en")  # the command line speaks English, like its errors
    if args.preset not in importers.PRESET_NAMES:
        raise UsageError(
            f"unknown preset {args.preset!r}; choose one of: {', '.join(importers.PRESET_NAMES)}"
        )
    try:
        table = importers.read_table(path)
        mapping = importers.plan_mapping(table.headers, args.preset)
        importers.check_mapping(mapping)
    except importers.ImportFileError as exc:
        raise UsageError(f"{path}: {exc}") from None
    _migrate()
    described = ", ".join(f"{c.header} → {c.field or '(other fields)'}" for c in mapping.columns)
    if not args.json:
        source_kind = table.format.upper()
        if table.format == "csv":
            source_kind += f", {table.encoding}, delimiter {table.delimiter!r}"
        print(
            f"{path}: {len(table.rows)} rows ({source_kind}); preset {mapping.preset}",
            file=sys.stderr,
        )
        print(f"Columns: {described}", file=sys.stderr)
    bars: dict[str, Any] = {}

    def progress(stage: str, n: int, total: int) -> None:
        if args.json:
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()  # one stage after the other, one bar at a time
            desc = "Reading" if stage == "read" else "Importing"
            bar = bars[stage] = tqdm(total=total, desc=desc, unit="row", file=sys.stderr)
        bar.update(n)

    try:
        summary = importers.import_rows(
            table, mapping, dry_run=args.dry_run, atomic=args.atomic, progress=progress
        )
    finally:
        for bar in bars.values():
            bar.close()
    data = summary.as_dict()
    data["file"] = path
    data["mapping"].update(
        {"format": table.format, "encoding": table.encoding, "delimiter": table.delimiter}
    )
    verb = "Would create" if args.dry_run else "Created"
    lines = [
        f"{verb} {summary.created} leads ({len(summary.duplicates)} linked as duplicates of an "
        f"earlier lead, {summary.review} to review); rows rejected: {len(summary.rejected)}."
    ]
    if summary.aborted:
        lines[0] = f"Nothing imported (--atomic): {len(summary.rejected)} rows rejected."
    lines += [f"  row {r.row}: {r.reason}" for r in summary.rejected[:50]]
    if len(summary.rejected) > 50:
        lines.append(f"  … and {len(summary.rejected) - 50} more (see --json)")
    shown = summary.duplicates[:20]
    for d in shown:
        of = f"row {d.original_row}" if d.original_row else f"lead #{d.lead}"
        lines.append(f"  row {d.row}: duplicate of {of} (same {d.on})")
    if len(summary.duplicates) > len(shown):
        lines.append(f"  … and {len(summary.duplicates) - len(shown)} more duplicates")
    _print(data, args.json, "\n".join(lines))
    if summary.aborted:
        print("leadrelay: error: nothing imported: some rows were rejected", file=sys.stderr)
        return 1
    return 0


def cmd_source_create(args: argparse.Namespace) -> int:
    _setup()
    from leadrelay.intake.sources import SourceError, create_source, load_mapping, source_dict

    _migrate()
    try:
        mapping = load_mapping(args.mapping) if args.mapping else None
        source = create_source(args.kind, args.name, secret=args.secret, mapping=mapping)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    data = source_dict(source)
    text = (
        f"Created source #{source.pk} ({source.kind}) {source.name!r}.\n"
        f"URL to give the vendor: {data['url']}\nSecret: {data['secret']}"
    )
    _print(data, args.json, text)
    return 0


def cmd_payments_import(args: argparse.Namespace) -> int:
    """The billing system's payments CSV, as the operator runs it: no user to check, so
    every contract may be named; all rows written, or none when any is refused."""
    path = args.file
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    _setup()
    from django.utils import translation

    from leadrelay.deals.contracts import import_payments_csv

    translation.activate("en")
    _migrate()
    with open(path, "rb") as handle:
        result = import_payments_csv(None, handle, dry_run=args.dry_run)
    data = result.as_dict()
    data["file"] = path
    verb = "Would record" if args.dry_run else "Recorded"
    if not result.ok:
        verb = "Nothing recorded; would record"
    lines = [
        f"{verb} {len(result.created)} payments; already stored: {len(result.duplicates)}; "
        f"rows refused: {len(result.rejected)}.",
        *(f"  {problem}" for problem in result.file_errors),
        *(
            f"  row {r.row}: " + "; ".join(f"{k}: {m}" for k, m in r.errors.items())
            for r in result.rejected[:50]
        ),
    ]
    _print(data, args.json, "\n".join(lines))
    if not result.ok:
        print("leadrelay: error: nothing imported: some rows were refused", file=sys.stderr)
        return 1
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["leadrelay manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="leadrelay",
        description="Leadrelay: every inbound request answered, qualified, routed, followed.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="migrate and start the web app and the worker")
    p.add_argument("--host", default=os.environ.get("LEADRELAY_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LEADRELAY_PORT", "8000")))
    p.add_argument("--demo", action="store_true", help="load demo data into an empty database")
    p.add_argument("--demo-leads", type=int, default=4200, help=argparse.SUPPRESS)
    p.add_argument("--no-worker", action="store_true", help="do not start the background worker")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run the background worker (any number may run)")
    p.add_argument("--once", action="store_true", help="run one pass and exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("demo", help="load realistic, reproducible demo data")
    p.add_argument("--leads", type=int, default=4200, help="number of leads (default 4200)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--force", action="store_true", help="add demo data to a non-empty database")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = user.add_parser("create", help="create a user")
    p.add_argument("name", help="login name")
    p.add_argument(
        "--role",
        required=True,
        help="sdr, sales, partner_manager, head_marketing, head_sales or admin",
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--email")
    p.add_argument("--first-name")
    p.add_argument("--last-name")
    p.add_argument("--department", help="department name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_user_create)

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = token.add_parser("create", help="print a new API token for a user")
    p.add_argument("name", help="the user's login name")
    p.add_argument("--label", help="what the token is for")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_token_create)

    source = sub.add_parser("source", help="manage intake sources").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = source.add_parser("create", help="create an intake source and print its URL")
    p.add_argument(
        "--kind",
        required=True,
        help="api, form, tilda, google_ads, meta, typeform, tally, jotform, calendly, yandex_forms",
    )
    p.add_argument("--name", required=True, help="what the source is, e.g. 'Site: SEO landing'")
    p.add_argument("--secret", help="the vendor's signing secret or token (default: generated)")
    p.add_argument("--mapping", help="JSON file: vendor field name -> lead field")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_source_create)

    p = sub.add_parser("import", help="import leads from a CSV/XLSX export of another CRM")
    p.add_argument("file", help="the CSV or XLSX file")
    p.add_argument(
        "--preset",
        default="auto",
        metavar="P",
        help="hubspot, salesforce, pipedrive, amocrm, bitrix24 or auto (default: auto)",
    )
    p.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    p.add_argument("--atomic", action="store_true", help="import nothing if any row is rejected")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_import)

    payments = sub.add_parser("payments", help="billing charges").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = payments.add_parser(
        "import",
        help="import payments from the billing system's CSV (contract or lead, paid_on, "
        "amount, currency, period_start, period_end, external_id, note)",
    )
    p.add_argument("file", help="the CSV file (UTF-8 or Windows-1251; ; or , separated)")
    p.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_payments_import)

    p = sub.add_parser("manage", help="Django's management commands", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def _fail(message: str) -> NoReturn:
    print(f"leadrelay: error: {message}", file=sys.stderr)
    raise SystemExit(2)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line on stderr, like every other error."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see {self.prog} --help)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["manage"]:
        # Everything after "manage" is Django's, --help included.
        if argv[1:] in ([], ["--help"], ["-h"]):
            print("usage: leadrelay manage COMMAND [options]  (Django's management commands)")
            argv = ["manage", "help"]
        return _run(cmd_manage, argparse.Namespace(rest=argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    return _run(args.func, args)


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return func(args)
    except UsageError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line for what the user can fix: no database etc.
        from django.db import OperationalError

        if isinstance(exc, OperationalError):
            _fail(f"database: {exc}")
        raise


if __name__ == "__main__":
    sys.exit(main())

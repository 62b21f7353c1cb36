"""Load an untrusted dump into its scratch database, and into nothing else.

How (the README's "What a dump can and cannot do" says it for users):
1. A custom-format dump is first turned into its SQL script by `pg_restore --file=-`,
   which connects to no database; from there every dump takes the same path.
2. A first look at the script's head finds the pg_dump version (too new is refused)
   and the extensions it asks for (only `ALLOWED_EXTENSIONS`, and only those the server has).
3. A role that owns the scratch database and nothing else is made; the tooling creates
   the extensions as the superuser.
4. The script is cut into psql's pieces (`psql_script`), each judged by `dump_policy`
   and sent unchanged or left out (`script_stream`), to `psql` logged in as that role, which starts in
   psql's restricted mode (`\\restrict` with a key the dump cannot know) so that no
   meta-command can run even if one were missed. Text the database cannot store is
   refused on the way (`text_encoding`).
5. The role's objects are handed to the tooling's user, the role is dropped, and code
   the dump brought is refused (`dump_code`) before anything else touches the database.

psql runs the whole script in one transaction and stops at the first error, so a dump
that fails to load leaves an empty database, never half of one. Only its plain indexes are
built after that transaction, two sessions at once (`held_indexes`); a failure there fails
the load too, and the caller drops the scratch database either way.
"""
from __future__ import annotations

import gzip
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import IO
from typing import Iterable
from typing import Iterator

from pglast import ast

from schema.quoting import identifier as sql_identifier
from schema.quoting import literal as sql_literal
from schema.quoting import qualified
from tooling.errors import CommandFailed
from tooling.errors import DumpTooNew
from tooling.errors import MissingExtension
from tooling.errors import NotADump
from tooling.errors import UnsafeDump
from tooling.fault_injection import pause_point
from tooling.legacy.dump_code import refuse_dump_code
from tooling.legacy.dump_policy import ALLOWED_EXTENSIONS
from tooling.legacy.dump_policy import BUILT_IN_SCHEMAS
from tooling.legacy.dump_policy import DumpPolicy
from tooling.legacy.dump_policy import ExtensionRequest
from tooling.legacy.dump_policy import extension_request
from tooling.legacy.dump_policy import parsed
from tooling.legacy.dump_policy import setting_value
from tooling.legacy.held_indexes import HeldIndexes
from tooling.legacy.held_indexes import build_held
from tooling.legacy.inputs import CUSTOM
from tooling.legacy.inputs import GZIP_SQL
from tooling.legacy.inputs import LegacyInput
from tooling.legacy.inputs import Progress
from tooling.legacy.inputs import dumped_by as dumped_by_header
from tooling.legacy.load_role import LoadRole
from tooling.legacy.load_role import owning_role
from tooling.legacy.load_role import reset_defaults
from tooling.legacy.psql_script import META_COMMAND
from tooling.legacy.psql_script import ScriptReader
from tooling.legacy.script_stream import CHUNK_BYTES
from tooling.legacy.script_stream import LOST_TRACK
from tooling.legacy.script_stream import script_chunks
from tooling.legacy.text_encoding import canonical_encoding
from tooling.names import quote_identifier
from tooling.server.backends import Backend
from tooling.versions import major_release

HEAD_LINES = 40

EXTENSION_CONFIG_TABLES = """
SELECT n.nspname || '|' || c.relname FROM pg_extension e
CROSS JOIN unnest(e.extconfig) AS member(oid) JOIN pg_class c ON c.oid = member.oid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'
"""
# The GRANTs that let a role fill the named extensions' configuration tables and sequences, where
# the tooling's user may give them (a superuser; a url backend's user may not: see script_stream).
EXTENSION_CONFIG_GRANTS = """
WITH config AS (
    SELECT c.oid, c.relkind, c.relnamespace FROM pg_extension e
    CROSS JOIN unnest(e.extconfig) AS member(oid) JOIN pg_class c ON c.oid = member.oid
    WHERE e.extname IN (%(extensions)s) AND has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION')
)
SELECT DISTINCT format('GRANT USAGE ON SCHEMA %%I TO %%I', n.nspname, %(role)s)
FROM config JOIN pg_namespace n ON n.oid = config.relnamespace
UNION ALL
SELECT format('GRANT %%s ON %%s TO %%I', CASE relkind WHEN 'S' THEN 'USAGE, UPDATE' ELSE 'INSERT' END,
              oid::regclass, %(role)s) FROM config
"""


@dataclass(frozen=True)
class ScriptHead:
    """What a dump's script says before its first table: who made it, what it needs."""

    dumped_by: str | None
    extensions: tuple[ExtensionRequest, ...]
    schemas: frozenset[str]


@dataclass
class LoadReport:
    """What the load did besides sending the dump: statements left out by reason, encoding used."""

    skipped: dict[str, int] = field(default_factory=dict)
    source_encoding: str | None = None
    extensions: tuple[str, ...] = ()
    dumped_by: str | None = None  # pg_dump's version from the script's header

    def as_dict(self) -> dict[str, object]:
        """The JSON form (bundle manifests): pg_dump version, encoding, extensions, left-out statements."""
        return {
            "dumped_by_pg_dump": self.dumped_by,
            "source_encoding": self.source_encoding,
            "extensions_created": list(self.extensions),
            "left_out": dict(sorted(self.skipped.items())),
        }


def load_dump(
    backend: Backend,
    legacy: LegacyInput,
    database: str,
    progress: Progress | None = None,
    *,
    source_encoding: str | None = None,
) -> LoadReport:
    """Load `legacy` (plain, gzip or custom format) into the empty `database`.

    Raises UnsafeDump, DumpTooNew, MissingExtension, UnstorableText or NotADump
    in one line; CommandFailed when psql or pg_restore fails.
    """
    encoding = canonical_encoding(source_encoding) if source_encoding else None
    with script_lines(backend, legacy, head_only=True) as lines:
        head = read_head(lines, legacy.path.name)
    refuse_newer_dump(backend, legacy, head.dumped_by)
    wanted = refuse_unknown_extensions(backend, database, head, legacy.path.name)
    # What the database had before the load is the tooling's (its template's extensions make
    # `topology`, `tiger` and `tiger_data`), whether or not the dump mentions it.
    made_before = existing_schemas(backend, database)
    with owning_role(backend, database) as role:
        created_schemas = create_extensions(backend, database, wanted, head, role)
        extensions = tuple(sorted(installed_extensions(backend, database)))
        pause_point("load")
        policy = DumpPolicy(
            legacy.path.name,
            created_extensions=frozenset(request.name for request in wanted),
            created_schemas=created_schemas,
            extension_tables=extension_tables(backend, database),
            source_encoding=encoding,
        )
        indexes = HeldIndexes()
        with script_lines(backend, legacy, progress=progress) as lines:
            chunks = script_chunks(lines, policy, legacy, indexes)
            run_script(backend, database, role, chunks, legacy.path.name)
        if indexes.indexes:
            reset_defaults(backend, database, role.name)
        try:
            build_held(
                indexes,
                lambda tables: table_pages(backend, database, tables),
                lambda chunks: run_script(backend, database, role, chunks, legacy.path.name),
            )
        finally:
            if indexes.indexes:  # the settings the script left, copied for the building sessions
                dropped = f"DROP SCHEMA IF EXISTS {indexes.schema} CASCADE"
                backend.tools.statements([dropped], database=database)
    refuse_dump_code(
        backend, database, legacy.path.name, extensions=extensions, schemas=created_schemas | made_before
    )
    return LoadReport(dict(policy.skipped), encoding, tuple(request.name for request in wanted),
                      head.dumped_by or legacy.dumped_by)


@contextmanager
def script_lines(
    backend: Backend, legacy: LegacyInput, *, head_only: bool = False, progress: Progress | None = None
) -> Iterator[Iterable[bytes]]:
    """The dump's SQL script line by line: the file itself, or what pg_restore makes of it."""
    with legacy.path.open("rb") as raw:
        if legacy.kind == CUSTOM:
            with backend.tools.restore_script(raw, schema_only_head=head_only) as script:
                yield reported(script, raw, legacy.size, progress)
            return
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if legacy.kind == GZIP_SQL else raw
        try:
            yield reported(stream, raw, legacy.size, progress)
        except (OSError, EOFError) as error:
            raise NotADump(f"{legacy.path} is truncated or damaged: {error}") from error


def reported(lines: IO[bytes], raw: IO[bytes], total: int, progress: Progress | None) -> Iterator[bytes]:
    """`lines`, telling `progress` how far into the file `raw` the reading is, every ~1 MB."""
    if progress is None:
        yield from lines
        return
    read, next_report = 0, 0
    for line in lines:
        yield line
        read += len(line)
        if read >= next_report:  # the file's position is asked only now and then: it costs a call
            progress(raw.tell(), total)
            next_report = read + CHUNK_BYTES
    progress(total, total)


def read_head(lines: Iterable[bytes], source: str) -> ScriptHead:
    """Read up to the first table or data: pg_dump's version, extensions and schemas."""
    dumped_by = None
    extensions: list[ExtensionRequest] = []
    schemas: set[str] = set()
    reader = ScriptReader(lines, source)
    for piece in reader:
        if dumped_by is None and reader.line_number <= HEAD_LINES:
            dumped_by = dumped_by_header(piece.prefix)
        if piece.kind == META_COMMAND:
            continue
        node = parsed(piece.body_for_parser())
        if isinstance(node, ast.VariableSetStmt) and node.name == "standard_conforming_strings":
            reader.standard_conforming_strings = setting_value(node) in ("on", "true")
        if isinstance(node, ast.CreateExtensionStmt):
            extensions.append(extension_request(node))
        elif isinstance(node, ast.CreateSchemaStmt):
            schemas.add(node.schemaname)
        elif isinstance(node, (ast.CreateStmt, ast.CopyStmt, ast.InsertStmt)):
            break
    return ScriptHead(dumped_by, tuple(extensions), frozenset(schemas))


def refuse_newer_dump(backend: Backend, legacy: LegacyInput, dumped_by: str | None) -> None:
    """SQL from a newer pg_dump may use what this server does not know: say so before loading."""
    version = dumped_by or legacy.dumped_by
    if not version:
        return
    server = backend.tools.server_version()
    try:
        dump_major = major_release(version)
    except ValueError as error:
        raise NotADump(
            f"{legacy.path.name}: cannot read the pg_dump version {version!r} in its header"
        ) from error
    if dump_major > major_release(server):
        raise DumpTooNew(legacy.path.name, version, server)


def refuse_unknown_extensions(
    backend: Backend, database: str, head: ScriptHead, source: str
) -> tuple[ExtensionRequest, ...]:
    """The extensions to create: each allowed, and each one this server has."""
    for request in head.extensions:
        if request.name not in ALLOWED_EXTENSIONS:
            raise UnsafeDump(
                f"{source} asks for the extension {request.name}, which a Mole database does not use "
                f"(allowed: {', '.join(sorted(ALLOWED_EXTENSIONS))})"
            )
    if not head.extensions:
        return ()
    available = backend.admin.available_extensions(database)
    for request in head.extensions:
        if request.name not in available:
            raise MissingExtension(
                f"{source} needs the PostgreSQL extension {request.name}, which this server does not have",
                extension=request.name,
            )
    return head.extensions


def create_extensions(
    backend: Backend, database: str, wanted: tuple[ExtensionRequest, ...], head: ScriptHead, role: LoadRole
) -> frozenset[str]:
    """Create the extensions the database lacks, as the tooling's user; returns the dump's
    schemas that exist now (the database's own, or made here for an extension), whose
    CREATE SCHEMA in the dump is left out.

    An extension placed in a schema of the dump's needs that schema first: it is made
    here, owned by the load role. An extension the database has already (the tooling
    creates Mole's in every database) is not created again: that needs no superuser.
    """
    installed = installed_extensions(backend, database)
    present = schemas_present(backend, database, head.schemas - BUILT_IN_SCHEMAS)
    statements: list[str] = []
    for request in wanted:
        if request.name in installed:
            continue
        schema = request.schema
        if schema and schema not in BUILT_IN_SCHEMAS and schema in head.schemas and schema not in present:
            statements.append(
                f"CREATE SCHEMA {sql_identifier(schema)} AUTHORIZATION {quote_identifier(role.name)}"
            )
            present.add(schema)
        placed = f" WITH SCHEMA {sql_identifier(schema)}" if schema and (
            schema in BUILT_IN_SCHEMAS or schema in present) else ""
        statements.append(f"CREATE EXTENSION IF NOT EXISTS {sql_identifier(request.name)}{placed}")
    if statements:
        backend.tools.statements(statements, database=database)
        present |= schemas_present(backend, database, head.schemas - BUILT_IN_SCHEMAS)
    if wanted:
        grant_extension_config(backend, database, role, wanted)
    return frozenset(present)


def installed_extensions(backend: Backend, database: str) -> set[str]:
    """The extensions `database` has."""
    return set(backend.tools.query("SELECT extname FROM pg_extension", database=database).stdout.split())


def extension_tables(backend: Backend, database: str) -> frozenset[tuple[str, str]]:
    """The configuration tables of the extensions `database` has, as (schema, table)."""
    found = backend.tools.query(EXTENSION_CONFIG_TABLES, database=database)
    return frozenset(tuple(line.split("|", 1)) for line in found.stdout.splitlines() if line)


def existing_schemas(backend: Backend, database: str) -> frozenset[str]:
    """Every schema of `database` but PostgreSQL's own (pg_catalog, information_schema, pg_toast...)."""
    found = backend.tools.query(
        "SELECT nspname FROM pg_namespace"
        " WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'",
        database=database,
    )
    return frozenset(found.stdout.split())


def schemas_present(backend: Backend, database: str, names: frozenset[str]) -> set[str]:
    """Those of `names` that exist: made by an extension's script (postgis_tiger_geocoder makes
    `tiger_data`), so the dump's own CREATE SCHEMA for them is left out."""
    if not names:
        return set()
    found = backend.tools.query(
        f"SELECT nspname FROM pg_namespace WHERE nspname IN ({', '.join(map(sql_literal, sorted(names)))})",
        database=database,
    )
    return set(found.stdout.split())


def grant_extension_config(
    backend: Backend, database: str, role: LoadRole, wanted: tuple[ExtensionRequest, ...]
) -> None:
    """Let the load role fill the extensions' configuration tables, which pg_dump dumps
    (`spatial_ref_sys`, `topology.topology`, tiger's settings): their rows are the user's
    (PostgreSQL docs, "Extension Configuration Tables")."""
    grants = backend.tools.query(
        EXTENSION_CONFIG_GRANTS % {
            "role": sql_literal(role.name),
            "extensions": ", ".join(sql_literal(request.name) for request in wanted),
        },
        database=database,
    )
    statements = [line for line in grants.stdout.splitlines() if line]
    if statements:
        backend.tools.statements(statements, database=database)


def table_pages(backend: Backend, database: str, tables: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Pages of each of `tables` (schema, name; 0 for one that is not there)."""
    ordered = sorted(tables)
    names = ", ".join(sql_literal(qualified(schema, name)) for schema, name in ordered)
    found = backend.tools.value(
        "SELECT json_agg(coalesce(pg_relation_size(to_regclass(name)), 0) "
        f"/ current_setting('block_size')::int ORDER BY number) FROM unnest(ARRAY[{names}]) "
        "WITH ORDINALITY AS names(name, number)",
        database=database,
    )
    return dict(zip(ordered, json.loads(found)))


def run_script(
    backend: Backend, database: str, role: LoadRole, chunks: Iterator[bytes], source: str
) -> None:
    """Feed the filtered script to psql as the load role. Raises UnsafeDump when the
    filter lost track of the script's quoting, CommandFailed when psql fails."""
    try:
        backend.tools.run_script(database, chunks, role)
    except CommandFailed as error:
        if LOST_TRACK in error.detail:
            found = re.search(rf"{LOST_TRACK} after line \d+", error.detail)
            raise UnsafeDump(f"{source}: {found.group() if found else LOST_TRACK} (it changed "
                             "standard_conforming_strings or client_encoding other than by SET)") from error
        raise

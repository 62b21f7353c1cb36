"""What each piece of an untrusted dump may do, decided by PostgreSQL's own parser.

A statement is kept byte for byte, left out (ownership, privileges, the source
server's database, the DROPs of `pg_dump --clean`, extensions the tooling creates
itself), or the dump is refused in one line. Nothing is rewritten, except
`SET client_encoding` when the user names the dump's real encoding.

The dump still runs as a role that owns the scratch database and nothing else
(`load_role`): this policy gives clear refusals and keeps faithful dumps loading;
the role is what makes a missed statement harmless.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field

from pglast import ast
from pglast import enums
from pglast import parse_sql
from pglast.parser import ParseError

from tooling.errors import UnsafeDump
from tooling.legacy.psql_script import META_COMMAND
from tooling.legacy.psql_script import Piece

# Extensions a Mole database may use; the tooling creates them as the superuser before
# the load (the PostGIS image's four, PostGIS's other parts, and common helpers).
ALLOWED_EXTENSIONS = frozenset({
    "plpgsql", "postgis", "postgis_topology", "postgis_raster", "postgis_tiger_geocoder",
    "postgis_sfcgal", "fuzzystrmatch", "address_standardizer", "address_standardizer_data_us",
    "pg_trgm", "uuid-ossp", "btree_gist", "btree_gin", "hstore", "citext", "unaccent",
})
# Schemas every database has; an extension put there needs no schema of the dump's.
BUILT_IN_SCHEMAS = frozenset({"public", "pg_catalog"})
# Session settings whose changes the reader or the loader follows; anything but a plain SET refused.
FOLLOWED_SETTINGS = (b"standard_conforming_strings", b"client_encoding")
# pg_dump writes these meta-commands; any other one is refused.
RESTRICT_COMMANDS = frozenset({"restrict", "unrestrict"})
CONNECT_COMMANDS = frozenset({"connect", "c"})

SERVER_LEVEL = {
    ast.CreateRoleStmt: "CREATE ROLE", ast.AlterRoleStmt: "ALTER ROLE",
    ast.AlterRoleSetStmt: "ALTER ROLE", ast.DropRoleStmt: "DROP ROLE",
    ast.GrantRoleStmt: "GRANT of a role", ast.ReassignOwnedStmt: "REASSIGN OWNED",
    ast.DropOwnedStmt: "DROP OWNED", ast.CreateTableSpaceStmt: "CREATE TABLESPACE",
    ast.DropTableSpaceStmt: "DROP TABLESPACE", ast.AlterTableSpaceOptionsStmt: "ALTER TABLESPACE",
    ast.AlterSystemStmt: "ALTER SYSTEM", ast.LoadStmt: "LOAD",
    ast.CreateSubscriptionStmt: "CREATE SUBSCRIPTION", ast.AlterSubscriptionStmt: "ALTER SUBSCRIPTION",
    ast.CreateForeignServerStmt: "CREATE SERVER", ast.CreateUserMappingStmt: "CREATE USER MAPPING",
    ast.AlterExtensionStmt: "ALTER EXTENSION", ast.AlterExtensionContentsStmt: "ALTER EXTENSION",
    ast.DiscardStmt: "DISCARD", ast.AlterEventTrigStmt: "ALTER EVENT TRIGGER",
    ast.CreateEventTrigStmt: "CREATE EVENT TRIGGER",
}
# What pg_dump never writes and the loader could not follow (a DO block may SET anything;
# a ROLLBACK TO SAVEPOINT undoes a SET; the load is one transaction).
NOT_FROM_PG_DUMP = {ast.DoStmt: "a DO block", ast.TransactionStmt: "a savepoint or rollback"}
# BEGIN and COMMIT themselves are left out: the whole load is already one transaction.
OUTER_TRANSACTION = frozenset({
    enums.TransactionStmtKind.TRANS_STMT_BEGIN,
    enums.TransactionStmtKind.TRANS_STMT_START,
    enums.TransactionStmtKind.TRANS_STMT_COMMIT,
})
# The source server's database: pg_dump --create writes it; the scratch database stands in.
SOURCE_DATABASE = (ast.CreatedbStmt, ast.AlterDatabaseStmt, ast.AlterDatabaseSetStmt,
                   ast.AlterDatabaseRefreshCollStmt, ast.DropdbStmt)
PRIVILEGES = (ast.GrantStmt, ast.AlterDefaultPrivilegesStmt)
CLEAN_SUBCOMMANDS = frozenset({enums.AlterTableType.AT_DropConstraint, enums.AlterTableType.AT_ColumnDefault})
# Statements that may come before the first object a `--clean` dump creates.
PREAMBLE = (ast.VariableSetStmt, ast.SelectStmt, ast.DropStmt, ast.DropdbStmt, ast.CreatedbStmt,
            ast.AlterDatabaseStmt, ast.AlterDatabaseSetStmt, ast.CommentStmt)

CONNINFO_DBNAME = re.compile(rb"dbname='((?:[^'\\]|\\.)*)'")
UNESCAPE = re.compile(rb"\\(.)")
BOOLEAN_WORDS = {"on": True, "true": True, "off": False, "false": False}

KEEP = "keep"
# Why a COPY into an extension's configuration table is held back: left out when no row follows.
EXTENSION_DATA = "data of an extension's configuration table"
SKIP = "skip"
REPLACE = "replace"


@dataclass(frozen=True)
class Decision:
    """What to send for one piece: all of it, only the comments before it, or `replacement`."""

    action: str
    why: str = ""
    replacement: bytes = b""
    node: ast.Node | None = None

    def output(self, piece: Piece) -> bytes:
        """The bytes that go to psql for `piece`: all of it, a replacement, or only its prefix."""
        if self.action == KEEP:
            return piece.text
        if self.action == REPLACE:
            return piece.prefix + self.replacement + piece.suffix
        return piece.prefix


@dataclass(frozen=True)
class ExtensionRequest:
    """`CREATE EXTENSION name [WITH SCHEMA schema]` as the dump asks for it."""

    name: str
    schema: str | None


@dataclass
class DumpPolicy:
    """Decides piece after piece; remembers what the dump did so far.

    `source` names the dump in messages. `created_extensions` and `created_schemas`
    are what the tooling made before the load; `extension_tables` the extensions'
    configuration tables, as (schema, table); `source_encoding` replaces the
    dump's `SET client_encoding`.
    """

    source: str
    created_extensions: frozenset[str] = frozenset()
    created_schemas: frozenset[str] = frozenset()
    extension_tables: frozenset[tuple[str, str]] = frozenset()
    source_encoding: str | None = None
    standard_conforming_strings: bool = True
    client_encoding: str | None = None
    copy_target: ast.CopyStmt | None = None
    database: str | None = None  # the one database a `--create` dump creates
    in_preamble: bool = True
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The loader starts every script with SET client_encoding to this.
        self.client_encoding = self.source_encoding or "UTF8"

    def refuse(self, piece: Piece, what: str) -> UnsafeDump:
        """An UnsafeDump naming the source and the piece's line."""
        return UnsafeDump(f"{self.source} line {piece.line}: {what}", line=piece.line)

    def decide(self, piece: Piece) -> Decision:
        """KEEP, SKIP or REPLACE; raises UnsafeDump for what no Mole dump holds."""
        if piece.kind == META_COMMAND:
            decision = self.meta_command(piece)
        else:
            decision = self.statement(piece)
        if decision.action == SKIP:
            self.left_out(decision.why)
        return decision

    def left_out(self, why: str) -> None:
        """Count one statement left out for `why` (the report lists them)."""
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def meta_command(self, piece: Piece) -> Decision:
        """A psql backslash command: only the few pg_dump writes are allowed."""
        words = piece.body[1:].split()
        name = words[0].decode("latin-1")  # as the parser read the CREATE DATABASE if words else ""
        if name in RESTRICT_COMMANDS:
            return Decision(SKIP, "psql \\restrict lines")
        if name == "encoding" and self.database:
            # pg_dump --create sets it around its \connect; not sent, so psql's encoding stays.
            return Decision(SKIP, "the source server's database")
        if name in CONNECT_COMMANDS and self.database and connect_target(words[1:]) == self.database:
            return Decision(SKIP, "the source server's database")
        if name in CONNECT_COMMANDS:
            raise self.refuse(piece, f"\\{name} would connect to another database; a dump of one "
                                     "database connects only to the database it creates")
        raise self.refuse(piece, f"the psql meta-command \\{name} is refused: a dump from pg_dump holds "
                                 "none but \\restrict and, after its CREATE DATABASE, \\connect to it")

    def statement(self, piece: Piece) -> Decision:
        """An SQL statement: kept, skipped (ownership, settings the loader owns) or refused."""
        if piece.body[:6].upper() == b"INSERT" and not followed_setting_changed(piece.body):
            # Rows, the bulk of a --inserts dump: nothing to decide, and the load role bounds them.
            self.in_preamble = False
            return Decision(KEEP)
        node = parsed(piece.body_for_parser())
        if node is None:
            return self.unparsed(piece)
        if not isinstance(node, PREAMBLE) and not self.clean_step(node):
            self.in_preamble = False
        kind = type(node)
        if isinstance(node, ast.TransactionStmt) and node.kind in OUTER_TRANSACTION:
            return Decision(SKIP, "BEGIN and COMMIT (pg_restore writes them around large objects)")
        if kind in NOT_FROM_PG_DUMP:
            raise self.refuse(piece, f"{NOT_FROM_PG_DUMP[kind]}: pg_dump writes none, and what it would "
                                     "do cannot be checked")
        if kind in SERVER_LEVEL and not (kind is ast.AlterRoleSetStmt and self.database
                                         and node.database == self.database):
            raise self.refuse(piece, f"{SERVER_LEVEL[kind]} acts on the server, not on one database "
                                     "(a pg_dump of one database holds none; pg_dumpall output is refused)")
        if isinstance(node, ast.VariableSetStmt):
            return self.setting(piece, node)
        if isinstance(node, ast.AlterRoleSetStmt) and self.database and node.database == self.database:
            return Decision(SKIP, "the source server's database")
        if writes_catalog(node):
            raise self.refuse(piece, "writes to a system catalog (pg_settings changes settings behind "
                                     "the loader's back)")
        if followed_setting_changed(piece.body):
            raise self.refuse(piece, "changes standard_conforming_strings or client_encoding other than by "
                                     "SET, which the loader could not follow")
        if isinstance(node, PRIVILEGES):
            return Decision(SKIP, "privileges (GRANT, REVOKE, default privileges)")
        if is_owner_change(node):
            return Decision(SKIP, "ownership (OWNER TO, SET SESSION AUTHORIZATION, SET ROLE)")
        if isinstance(node, SOURCE_DATABASE):
            return self.source_database(piece, node)
        if isinstance(node, ast.CommentStmt) and node.objtype in (
            enums.ObjectType.OBJECT_DATABASE, enums.ObjectType.OBJECT_EXTENSION
        ):
            return Decision(SKIP, "comments on the database and extensions")
        if (isinstance(node, ast.CommentStmt) and node.objtype == enums.ObjectType.OBJECT_SCHEMA
                and node.object.sval in self.created_schemas):
            return Decision(SKIP, "comments on the extensions' schemas (they exist before the load)")
        if isinstance(node, ast.CreateExtensionStmt):
            if node.extname in self.created_extensions:
                return Decision(SKIP, "CREATE EXTENSION (the tooling created them)")
            raise self.refuse(piece, f"CREATE EXTENSION {node.extname} comes after the dump's data or is "
                                     "not one a Mole database uses")
        if isinstance(node, ast.CreateSchemaStmt) and node.schemaname in self.created_schemas | {"public"}:
            return Decision(SKIP, "CREATE SCHEMA of a schema that exists")
        if self.in_preamble and self.clean_step(node):
            return Decision(SKIP, "the DROPs of pg_dump --clean")
        if isinstance(node, ast.CopyStmt):
            return self.copy(piece, node)
        return Decision(KEEP, node=node)

    def unparsed(self, piece: Piece) -> Decision:
        """An empty statement is kept; what PostgreSQL's parser cannot read (syntax newer than
        pglast's) is refused, since what it does cannot be checked."""
        if piece.body.strip(b" \t\r\n;"):
            raise self.refuse(piece, "a statement PostgreSQL's parser (pglast) cannot read, so what it "
                                     "does cannot be checked")
        return Decision(KEEP)

    def setting(self, piece: Piece, node: ast.VariableSetStmt) -> Decision:
        """A SET: ownership skipped, the settings the loader follows tracked, the rest kept."""
        name, value = node.name, setting_value(node)
        if name in ("session_authorization", "role"):
            return Decision(SKIP, "ownership (OWNER TO, SET SESSION AUTHORIZATION, SET ROLE)")
        if node.kind == enums.VariableSetKind.VAR_RESET_ALL:
            raise self.refuse(piece, "RESET ALL would change settings the loader follows")
        if name == "standard_conforming_strings":
            if node.kind != enums.VariableSetKind.VAR_SET_VALUE or value not in BOOLEAN_WORDS:
                raise self.refuse(
                    piece, "standard_conforming_strings is set in a way the loader cannot follow"
                )
            self.standard_conforming_strings = BOOLEAN_WORDS[value]
        if name == "client_encoding":
            if node.kind != enums.VariableSetKind.VAR_SET_VALUE or value is None:
                raise self.refuse(piece, "client_encoding is set in a way the loader cannot follow")
            if self.source_encoding:
                if canonical_name(value) != "SQLASCII":
                    raise self.refuse(piece, f"the dump says its text is {value}: --source-encoding is for "
                                             "dumps that say SQL_ASCII (whose real encoding is unknown)")
                self.client_encoding = self.source_encoding
                return Decision(REPLACE, "client_encoding replaced by --source-encoding",
                                f"SET client_encoding = '{self.source_encoding}';".encode())
            self.client_encoding = value
        return Decision(KEEP, node=node)

    def source_database(self, piece: Piece, node: ast.Node) -> Decision:
        """CREATE or DROP DATABASE of a `--create` dump: skipped, noting its name."""
        if isinstance(node, ast.CreatedbStmt):
            if self.database is not None:
                raise self.refuse(piece, "a second CREATE DATABASE: this holds several databases "
                                         "(pg_dumpall output?); dump one database with pg_dump")
            self.database = node.dbname
        elif isinstance(node, ast.DropdbStmt) and not self.in_preamble:
            raise self.refuse(piece, "DROP DATABASE outside a --clean preamble")
        return Decision(SKIP, "the source server's database")

    def copy(self, piece: Piece, node: ast.CopyStmt) -> Decision:
        """COPY FROM STDIN is kept; COPY to or from a file or program is refused."""
        if not node.is_from or node.filename is not None or node.is_program:
            raise self.refuse(piece, "COPY to or from a file or program of the server (or to the client): "
                                     "a dump's COPY reads only the lines that follow it")
        self.copy_target = node
        if (node.relation.schemaname or "public", node.relation.relname) in self.extension_tables:
            return Decision(KEEP, EXTENSION_DATA, node=node)
        return Decision(KEEP, node=node)

    @staticmethod
    def clean_step(node: ast.Node) -> bool:
        """A DROP that `pg_dump --clean` writes before re-creating (fails on an empty database)."""
        if isinstance(node, (ast.DropStmt, ast.DropdbStmt)):
            return True
        return isinstance(node, ast.AlterTableStmt) and all(
            command.subtype in CLEAN_SUBCOMMANDS and command.def_ is None for command in node.cmds
        )


def parsed(body: bytes) -> ast.Node | None:
    """The statement's parse tree, or None when PostgreSQL's parser cannot read it.

    Bytes are read as Latin-1 so that any byte is a character (keywords are ASCII).
    Pass `Piece.body_for_parser()`: the parser always assumes standard_conforming_strings on.
    """
    if not body.strip() or body.strip() == b";":
        return None
    try:
        statements = parse_sql(body.decode("latin-1"))
    except ParseError:
        return None
    if len(statements) != 1:
        return None
    return statements[0].stmt


def canonical_name(encoding: str) -> str:
    """An encoding name as PostgreSQL compares them: letters and digits, upper case."""
    return re.sub(r"[^A-Za-z0-9]", "", encoding).upper()


def connect_target(words: list[bytes]) -> str | None:
    """The database of pg_dump's `\\connect NAME` or `\\connect -reuse-previous=on "dbname='NAME'"`."""
    if not words:
        return None
    if words[0] != b"-reuse-previous=on":
        name = words[0].decode("latin-1")  # as the parser read the CREATE DATABASE
        return name[1:-1].replace('""', '"') if name.startswith('"') and name.endswith('"') else name
    found = CONNINFO_DBNAME.search(b" ".join(words[1:]))
    return UNESCAPE.sub(rb"\1", found.group(1)).decode("latin-1") if found else None


def writes_catalog(node: ast.Node) -> bool:
    """An INSERT, UPDATE or DELETE whose target is in pg_catalog (`UPDATE pg_settings` sets a setting)."""
    relation = getattr(node, "relation", None)
    if not isinstance(node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)) or relation is None:
        return False
    return relation.schemaname == "pg_catalog" or relation.relname.startswith("pg_")


def setting_value(node: ast.VariableSetStmt) -> str | None:
    """The value a SET statement sets, as text (`on`/`off` for booleans); None for none."""
    if not node.args:
        return None
    value = getattr(node.args[0], "val", None)
    text = getattr(value, "sval", None) or getattr(value, "boolval", None)
    if isinstance(value, ast.Boolean):
        return "on" if value.boolval else "off"
    return str(text).lower() if text is not None else None


def is_owner_change(node: ast.Node) -> bool:
    """True for ALTER ... OWNER TO (nothing else in the statement)."""
    if isinstance(node, ast.AlterOwnerStmt):
        return True
    return isinstance(node, ast.AlterTableStmt) and bool(node.cmds) and all(
        command.subtype == enums.AlterTableType.AT_ChangeOwner for command in node.cmds
    )


def followed_setting_changed(body: bytes) -> bool:
    """A function call such as set_config() naming a setting the reader follows."""
    lowered = body.lower()
    return b"set_config" in lowered and any(name in lowered for name in FOLLOWED_SETTINGS)


def extension_request(node: ast.CreateExtensionStmt) -> ExtensionRequest:
    """The extension a CREATE EXTENSION asks for, with its schema if it names one."""
    schema = None
    for option in node.options or ():
        if option.defname == "schema":
            schema = option.arg.sval
    return ExtensionRequest(node.extname, schema)

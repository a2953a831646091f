//! `switchyard export` and `switchyard import`: every table's rows as JSON lines (gzipped),
//! read in one consistent snapshot, loaded into an empty database of either engine in one
//! transaction. This is the way from SQLite to PostgreSQL: a backup restores only into the
//! engine it came from.
//!
//! The databases do the JSON themselves (`json_object` and `json_each` on SQLite, `row_to_json`
//! and `json_populate_recordset` on PostgreSQL), so each column keeps its own type's rules:
//! SQLite's 0/1 become PostgreSQL booleans and back, 64-bit integers stay exact.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::File,
    io::{BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use flate2::{read::MultiGzDecoder, write::GzEncoder, Compression};
use futures_util::TryStreamExt;
use serde::Deserialize;
use sqlx::{PgConnection, SqliteConnection};
use tokio::sync::mpsc;

use super::{engine_name, quoted, BackupError, NEWEST_MIGRATION};
use crate::{
    backend::{storage, Database, Engine, StorageError},
    domain::{
        backups::{load_plan, ExportHeader, Reference},
        Timestamp,
    },
};

/// Rows sent to the database per statement: few round trips, bounded memory.
const BATCH_ROWS: usize = 500;
/// Lines handed between the file thread and the database at a time.
const CHUNK_LINES: usize = 256;

/// Writes the header, then every table's rows read through `$conn` in `$dialect`, into
/// `$lines`; evaluates to the header.
macro_rules! dump_rows {
    ($conn:expr, $tables:expr, $dialect:expr, $taken_at:expr, $lines:expr) => {
        async {
            let conn = $conn;
            let tables: &[Table] = $tables;
            let lines = $lines;
            let migration: Option<i64> = sqlx::query_scalar(NEWEST_MIGRATION)
                .fetch_one(&mut *conn)
                .await
                .map_err(StorageError::from)?;
            let header = ExportHeader {
                format: ExportHeader::FORMAT.to_owned(),
                engine: engine_name($dialect.engine()).to_owned(),
                migration: migration.unwrap_or(0),
                switchyard: env!("CARGO_PKG_VERSION").to_owned(),
                taken_at: $taken_at,
                tables: count_each!(conn, tables.iter().map(|t| t.name.clone())),
            };
            let mut chunk = vec![serde_json::to_string(&header).map_err(invalid)?];
            for table in tables {
                let prefix = format!(
                    "{{\"table\":{},\"row\":",
                    serde_json::Value::from(table.name.as_str())
                );
                let sql = $dialect.select(table);
                let mut rows = sqlx::query_scalar::<_, String>(&sql).fetch(&mut *conn);
                while let Some(row) = rows.try_next().await.map_err(StorageError::from)? {
                    chunk.push(format!("{prefix}{row}}}"));
                    if chunk.len() == CHUNK_LINES {
                        send(&lines, std::mem::take(&mut chunk)).await?;
                    }
                }
            }
            send(&lines, chunk).await?;
            Ok::<_, BackupError>(header)
        }
        .await
    };
}

/// Loads the rows after the header into `$tables` through `$conn` (an open transaction),
/// in `$dialect`; checks the target was empty and that every table ends up with the header's
/// count; evaluates to the rows per table.
macro_rules! load_rows {
    ($conn:expr, $tables:expr, $header:expr, $lines:expr, $url:expr, $dialect:expr) => {
        async {
            let conn = $conn;
            let tables: &[Table] = $tables;
            let header: &ExportHeader = $header;
            let before = count_each!(conn, tables.iter().map(|t| t.name.clone()));
            if before.values().any(|&rows| rows > 0) {
                return Err(BackupError::NotEmpty {
                    url: storage::redact_url($url),
                });
            }
            same_tables(header, tables)?;
            let inserts: BTreeMap<&str, String> =
                tables.iter().map(|t| (t.name.as_str(), $dialect.insert(t))).collect();
            let mut batches = Batches::new($lines, tables);
            while let Some((table, rows)) = batches.next().await? {
                sqlx::query(&inserts[table.as_str()])
                    .bind(rows)
                    .execute(&mut *conn)
                    .await
                    .map_err(|error| {
                        BackupError::Invalid(format!(
                            "the rows of {table} up to line {}: {error}",
                            batches.line
                        ))
                    })?;
            }
            let (read, mut later) = batches.finish();
            for table in tables.iter().filter(|t| !t.deferred.is_empty()) {
                let sql = $dialect.update(table);
                for rows in later.remove(&table.name).unwrap_or_default().chunks(BATCH_ROWS) {
                    sqlx::query(&sql)
                        .bind(format!("[{}]", rows.join(",")))
                        .execute(&mut *conn)
                        .await
                        .map_err(|error| {
                            BackupError::Invalid(format!("setting {:?} of {}: {error}", table.deferred, table.name))
                        })?;
                }
            }
            let counted = count_each!(conn, tables.iter().map(|t| t.name.clone()));
            if read != header.tables || counted != header.tables {
                return Err(BackupError::Invalid(format!(
                    "the export is incomplete: its header counts {:?}, the file holds {read:?}, the database took {counted:?}",
                    header.tables
                )));
            }
            Ok::<_, BackupError>(counted)
        }
        .await?
    };
}

/// A table as the export and import see it: its columns (generated ones left out), the
/// primary key it is read in order of, and (PostgreSQL) the columns fed by a sequence.
#[derive(Debug)]
struct Table {
    name: String,
    columns: Vec<Column>,
    key: Vec<String>,
    sequenced: Vec<String>,
    /// Loaded as NULL, then set once every table is in (see [`load_plan`]).
    deferred: Vec<String>,
}

impl Table {
    fn is_deferred(&self, column: &Column) -> bool {
        self.deferred.contains(&column.name)
    }
}

/// A column, and what the export writes it as where the engines store it differently, so
/// that an export reads the same whichever engine wrote it.
#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// JSON `true`/`false` (SQLite stores 1/0).
    Boolean,
    /// RFC 3339 text in UTC to the millisecond, as SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ')`
    /// writes it (PostgreSQL has a `timestamptz`).
    Timestamp,
    Other,
}

impl Kind {
    /// From the column's declared type (SQLite) or its type's name (PostgreSQL).
    fn of(declared: &str) -> Self {
        match declared.to_ascii_lowercase().as_str() {
            "boolean" => Self::Boolean,
            "timestamptz" | "timestamp with time zone" => Self::Timestamp,
            _ => Self::Other,
        }
    }
}

/// What an import loaded.
#[derive(Debug)]
pub struct Imported {
    pub header: ExportHeader,
    pub tables: BTreeMap<String, i64>,
}

/// Writes every row of the database into `file` (gzipped JSON lines), all read in one
/// snapshot while the server goes on writing; returns the header, whose counts are that
/// snapshot's.
pub async fn export(
    db: &Database,
    file: &Path,
    now: Timestamp,
) -> Result<ExportHeader, BackupError> {
    let taken_at = chrono::DateTime::from_timestamp_millis(now.millis())
        .ok_or_else(|| BackupError::Invalid(format!("the clock reads {now}")))?
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let part = super::files::part_of(file);
    let (lines, writer) = write_lines(part.clone());
    let header = match db {
        Database::Sqlite { reader, .. } => {
            let mut tx = reader.begin().await.map_err(StorageError::from)?;
            let tables = sqlite::tables(&mut tx).await?;
            dump_rows!(&mut *tx, &tables, Dialect::Sqlite, taken_at, lines)
        }
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(StorageError::from)?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(StorageError::from)?;
            let tables = postgres::tables(&mut tx).await?;
            dump_rows!(&mut *tx, &tables, Dialect::Postgres, taken_at, lines)
        }
    };
    // The writer finishes once `lines` is dropped, which every path above has done.
    let written = writer.await;
    let finished = match (header, written) {
        (Ok(header), Ok(())) => tokio::fs::rename(&part, file)
            .await
            .map(|()| header)
            .map_err(BackupError::io(file)),
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    if finished.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    finished
}

/// Loads an export into the database at `url`, which must be empty; migrates it first, and
/// refuses an export of another schema. One transaction: on any error nothing is kept.
pub async fn import(file: &Path, url: &str) -> Result<Imported, BackupError> {
    let engine = Engine::from_url(url)
        .ok_or_else(|| StorageError::UnsupportedUrl(storage::redact_url(url)))?;
    let mut lines = Lines::open(file);
    let header = lines.header().await?;
    let schema = storage::newest_migration(engine);
    if header.migration != schema {
        return Err(BackupError::Invalid(if header.migration > schema {
            format!("this export is of schema {} and this Switchyard knows schema {schema}: import it with the Switchyard that wrote it ({}) or a newer one", header.migration, header.switchyard)
        } else {
            format!("this export is of an older schema ({}, this Switchyard's is {schema}): run `switchyard migrate` on the database it came from with this Switchyard, export again, then import", header.migration)
        }));
    }
    let db = Database::connect(url).await?;
    let loaded = async {
        db.migrate().await?;
        match &db {
            Database::Sqlite { writer, .. } => {
                let mut tx = writer.begin().await.map_err(StorageError::from)?;
                let tables = sqlite::tables(&mut tx).await?;
                let counted =
                    load_rows!(&mut *tx, &tables, &header, &mut lines, url, Dialect::Sqlite);
                tx.commit().await.map_err(StorageError::from)?;
                Ok::<_, BackupError>(counted)
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(StorageError::from)?;
                let tables = postgres::tables(&mut tx).await?;
                let counted = load_rows!(
                    &mut *tx,
                    &tables,
                    &header,
                    &mut lines,
                    url,
                    Dialect::Postgres
                );
                postgres::restart_sequences(&mut tx, &tables).await?;
                tx.commit().await.map_err(StorageError::from)?;
                Ok(counted)
            }
        }
    }
    .await;
    db.close().await;
    let tables = loaded?;
    Ok(Imported { header, tables })
}

/// The export's tables must be the database's, as one schema version promises.
fn same_tables(header: &ExportHeader, tables: &[Table]) -> Result<(), BackupError> {
    let exported: BTreeSet<&str> = header.tables.keys().map(String::as_str).collect();
    let here: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    if exported == here {
        return Ok(());
    }
    Err(BackupError::Invalid(format!(
        "the export's tables differ from the database's: only in the export {:?}, only in the database {:?}",
        exported.difference(&here).collect::<Vec<_>>(),
        here.difference(&exported).collect::<Vec<_>>()
    )))
}

/// The tables of a schema in load order, with their deferred columns, from its tables and
/// its foreign keys: `(table, constraint, referenced, column, NOT NULL)` rows.
fn planned(
    mut tables: BTreeMap<String, Table>,
    foreign_keys: Vec<(String, String, String, String, bool)>,
) -> Result<Vec<Table>, BackupError> {
    let mut references: BTreeMap<(String, String), Reference> = BTreeMap::new();
    for (table, constraint, referenced, column, not_null) in foreign_keys {
        let reference = references
            .entry((table.clone(), constraint))
            .or_insert_with(|| Reference {
                table,
                referenced,
                columns: Vec::new(),
                nullable: true,
            });
        reference.columns.push(column);
        reference.nullable &= !not_null;
    }
    let references: Vec<Reference> = references.into_values().collect();
    let names: BTreeSet<String> = tables.keys().cloned().collect();
    let plan = load_plan(&names, &references).map_err(|cycle| {
        BackupError::Invalid(format!(
            "the tables {cycle:?} refer to each other through required columns; no order loads them"
        ))
    })?;
    plan.order
        .into_iter()
        .filter_map(|name| {
            let mut table = tables.remove(&name)?;
            table.deferred = plan
                .deferred
                .get(&name)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            Some(table)
        })
        .map(
            |table| match table.deferred.is_empty() || !table.key.is_empty() {
                true => Ok(table),
                false => Err(BackupError::Invalid(format!(
                    "{} needs columns set after loading but has no primary key to find its rows by",
                    table.name
                ))),
            },
        )
        .collect()
}

/// `'text'`, with any `'` doubled.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn invalid(error: impl std::fmt::Display) -> BackupError {
    BackupError::Invalid(error.to_string())
}

async fn send(lines: &mpsc::Sender<Vec<String>>, chunk: Vec<String>) -> Result<(), BackupError> {
    lines
        .send(chunk)
        .await
        .map_err(|_| BackupError::Invalid("the export file's writer stopped".to_owned()))
}

/// A thread that gzips the lines it is sent into `part`; its result once the sender is
/// dropped. Compressing on its own thread keeps the database reads going meanwhile.
fn write_lines(
    part: PathBuf,
) -> (
    mpsc::Sender<Vec<String>>,
    impl std::future::Future<Output = Result<(), BackupError>>,
) {
    let (sender, mut receiver) = mpsc::channel::<Vec<String>>(8);
    let task = tokio::task::spawn_blocking(move || {
        let io = BackupError::io(&part);
        let file = File::create(&part).map_err(BackupError::io(&part))?;
        let mut out = BufWriter::new(GzEncoder::new(file, Compression::new(6)));
        let written = (|| {
            while let Some(chunk) = receiver.blocking_recv() {
                for line in chunk {
                    out.write_all(line.as_bytes())?;
                    out.write_all(b"\n")?;
                }
            }
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .finish()?
                .sync_all()
        })();
        written.map_err(io)
    });
    let finished = async move {
        task.await.map_err(|error| {
            BackupError::Invalid(format!("the export file's writer stopped: {error}"))
        })?
    };
    (sender, finished)
}

/// The lines of an export, read and unzipped on a thread of their own.
struct Lines {
    receiver: mpsc::Receiver<Result<Vec<String>, BackupError>>,
    pending: std::vec::IntoIter<String>,
    /// The number of the line last returned, from 1.
    number: usize,
}

impl Lines {
    fn open(file: &Path) -> Self {
        let (sender, receiver) = mpsc::channel(8);
        let file = file.to_owned();
        tokio::task::spawn_blocking(move || {
            let read = || -> Result<(), BackupError> {
                let opened = File::open(&file).map_err(BackupError::io(&file))?;
                let mut lines = BufReader::new(MultiGzDecoder::new(opened)).lines();
                loop {
                    let chunk = lines
                        .by_ref()
                        .take(CHUNK_LINES)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|error| {
                            BackupError::Invalid(format!(
                                "{}: not a gzipped export ({error})",
                                file.display()
                            ))
                        })?;
                    if chunk.is_empty() || sender.blocking_send(Ok(chunk)).is_err() {
                        return Ok(());
                    }
                }
            };
            if let Err(error) = read() {
                let _ = sender.blocking_send(Err(error));
            }
        });
        Self {
            receiver,
            pending: Vec::new().into_iter(),
            number: 0,
        }
    }

    async fn next(&mut self) -> Result<Option<String>, BackupError> {
        loop {
            if let Some(line) = self.pending.next() {
                self.number += 1;
                return Ok(Some(line));
            }
            match self.receiver.recv().await {
                Some(chunk) => self.pending = chunk?.into_iter(),
                None => return Ok(None),
            }
        }
    }

    async fn header(&mut self) -> Result<ExportHeader, BackupError> {
        let not_export = || {
            BackupError::Invalid("this file is not a Switchyard export (its first line is not an export header); exports are written by `switchyard export`".to_owned())
        };
        let line = self.next().await?.ok_or_else(not_export)?;
        let header: ExportHeader = serde_json::from_str(&line).map_err(|_| not_export())?;
        if header.format != ExportHeader::FORMAT {
            return Err(not_export());
        }
        Ok(header)
    }
}

/// One row line: `{"table": "…", "row": {…}}`.
#[derive(Deserialize)]
struct RowLine {
    table: String,
    row: serde_json::Map<String, serde_json::Value>,
}

/// The rows after the header, grouped into JSON arrays of one table's rows, checked on the
/// way: each line a row of a known table, tables in load order (each table's rows together,
/// after the tables it refers to).
struct Batches<'a> {
    lines: &'a mut Lines,
    /// Position in the load order of each table.
    position: BTreeMap<&'a str, usize>,
    /// The tables with deferred columns, and for each the JSON objects (key and deferred
    /// columns) of its rows that set any, to apply once everything is loaded.
    deferred: BTreeMap<&'a str, &'a Table>,
    later: BTreeMap<String, Vec<String>>,
    /// The table being read and the rows read of each.
    current: Option<usize>,
    read: BTreeMap<String, i64>,
    held: Option<RowLine>,
    /// The line the last batch ended at, for errors.
    line: usize,
}

impl<'a> Batches<'a> {
    fn new(lines: &'a mut Lines, tables: &'a [Table]) -> Self {
        Self {
            lines,
            position: tables
                .iter()
                .enumerate()
                .map(|(i, t)| (t.name.as_str(), i))
                .collect(),
            deferred: tables
                .iter()
                .filter(|t| !t.deferred.is_empty())
                .map(|t| (t.name.as_str(), t))
                .collect(),
            later: BTreeMap::new(),
            current: None,
            read: tables.iter().map(|t| (t.name.clone(), 0)).collect(),
            held: None,
            line: 1,
        }
    }

    /// The next batch: a table and its rows as a JSON array; `None` at the end of the file.
    async fn next(&mut self) -> Result<Option<(String, String)>, BackupError> {
        let Some(first) = self.row().await? else {
            return Ok(None);
        };
        let table = first.table.clone();
        let mut rows = String::from("[");
        let mut count: i64 = 0;
        let mut next = Some(first);
        while let Some(row) = next.take() {
            if row.table != table {
                self.held = Some(row);
                break;
            }
            if count > 0 {
                rows.push(',');
            }
            if let Some(deferred) = self.deferred.get(table.as_str()) {
                self.defer(deferred, &row.row);
            }
            rows.push_str(&serde_json::Value::Object(row.row).to_string());
            count += 1;
            if count < BATCH_ROWS as i64 {
                next = self.row().await?;
            }
        }
        rows.push(']');
        *self.read.entry(table.clone()).or_default() += count;
        self.line = self.lines.number;
        Ok(Some((table, rows)))
    }

    /// The next row line, checked.
    async fn row(&mut self) -> Result<Option<RowLine>, BackupError> {
        if let Some(held) = self.held.take() {
            return Ok(Some(held));
        }
        let Some(line) = self.lines.next().await? else {
            return Ok(None);
        };
        let number = self.lines.number;
        let row: RowLine = serde_json::from_str(&line).map_err(|error| {
            BackupError::Invalid(format!("line {number} is not a row of an export: {error}"))
        })?;
        let Some(&position) = self.position.get(row.table.as_str()) else {
            return Err(BackupError::Invalid(format!(
                "line {number}: the database has no table {:?}",
                row.table
            )));
        };
        if self.current.is_some_and(|current| position < current) {
            return Err(BackupError::Invalid(format!(
                "line {number}: a row of {} after the rows of tables that refer to it; exports list each table's rows together, in load order",
                row.table
            )));
        }
        self.current = Some(position);
        Ok(Some(row))
    }

    /// Keeps the key and deferred columns of `row` when it sets any of them.
    fn defer(&mut self, table: &Table, row: &serde_json::Map<String, serde_json::Value>) {
        if table
            .deferred
            .iter()
            .all(|c| row.get(c).is_none_or(serde_json::Value::is_null))
        {
            return;
        }
        let kept: serde_json::Map<String, serde_json::Value> = table
            .key
            .iter()
            .chain(&table.deferred)
            .filter_map(|c| Some((c.clone(), row.get(c)?.clone())))
            .collect();
        let later = self.later.entry(table.name.clone()).or_default();
        later.push(serde_json::Value::Object(kept).to_string());
    }

    /// Rows read per table, and the deferred values to set.
    fn finish(self) -> (BTreeMap<String, i64>, BTreeMap<String, Vec<String>>) {
        (self.read, self.later)
    }
}

/// The SQL that differs between the engines; the statements are built alike.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn engine(self) -> Engine {
        match self {
            Self::Sqlite => Engine::Sqlite,
            Self::Postgres => Engine::Postgres,
        }
    }

    /// Each row of `table` as a JSON object, in key order.
    fn select(self, table: &Table) -> String {
        match self {
            Self::Sqlite => {
                let pairs: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| {
                        let value = match c.kind {
                            Kind::Boolean => format!(
                                "CASE WHEN {name} IS NULL THEN NULL WHEN {name} THEN json('true') ELSE json('false') END",
                                name = quoted(&c.name)
                            ),
                            Kind::Timestamp | Kind::Other => quoted(&c.name),
                        };
                        format!("{}, {value}", literal(&c.name))
                    })
                    .collect();
                format!(
                    "SELECT json_object({}) FROM {}{}",
                    pairs.join(", "),
                    quoted(&table.name),
                    order_by(&table.key)
                )
            }
            Self::Postgres => {
                let columns: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| match c.kind {
                        Kind::Timestamp => format!(
                            "to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS {name}",
                            name = quoted(&c.name)
                        ),
                        Kind::Boolean | Kind::Other => quoted(&c.name),
                    })
                    .collect();
                format!(
                    "SELECT row_to_json(r)::text FROM (SELECT {} FROM {}{}) r",
                    columns.join(", "),
                    quoted(&table.name),
                    order_by(&table.key)
                )
            }
        }
    }

    /// The statement's one parameter, a JSON array of `table`'s rows, as a table `j`.
    fn rows(self, table: &Table) -> String {
        match self {
            Self::Sqlite => "json_each(?1) AS j".to_owned(),
            Self::Postgres => format!(
                "json_populate_recordset(NULL::{}, $1::text::json) AS j",
                quoted(&table.name)
            ),
        }
    }

    /// The value of `column` in a row of `j`.
    fn field(self, column: &str) -> String {
        match self {
            Self::Sqlite => format!("j.value ->> {}", literal(&format!("$.{}", quoted(column)))),
            Self::Postgres => format!("j.{}", quoted(column)),
        }
    }

    /// Inserts a JSON array of rows, ids as they are; deferred columns NULL for now.
    fn insert(self, table: &Table) -> String {
        // PostgreSQL generates identity ids unless told the rows bring their own.
        let overriding = match self {
            Self::Sqlite => "",
            Self::Postgres => " OVERRIDING SYSTEM VALUE",
        };
        let columns: Vec<String> = table.columns.iter().map(|c| quoted(&c.name)).collect();
        let values: Vec<String> = table
            .columns
            .iter()
            .map(|c| match table.is_deferred(c) {
                true => "NULL".to_owned(),
                false => self.field(&c.name),
            })
            .collect();
        format!(
            "INSERT INTO {} ({}){overriding} SELECT {} FROM {}",
            quoted(&table.name),
            columns.join(", "),
            values.join(", "),
            self.rows(table)
        )
    }

    /// Sets the deferred columns from a JSON array of rows holding them and the key.
    fn update(self, table: &Table) -> String {
        let set: Vec<String> = table
            .deferred
            .iter()
            .map(|c| format!("{} = {}", quoted(c), self.field(c)))
            .collect();
        let matched: Vec<String> = table
            .key
            .iter()
            .map(|k| format!("{}.{} = {}", quoted(&table.name), quoted(k), self.field(k)))
            .collect();
        format!(
            "UPDATE {} SET {} FROM {} WHERE {}",
            quoted(&table.name),
            set.join(", "),
            self.rows(table),
            matched.join(" AND ")
        )
    }
}

mod sqlite {
    use super::*;

    /// The schema's tables in load order.
    pub(super) async fn tables(conn: &mut SqliteConnection) -> Result<Vec<Table>, BackupError> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
        let mut tables = BTreeMap::new();
        for name in names {
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, type FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid",
            )
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
            let key = sqlx::query_scalar(
                "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
            )
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
            let table = Table {
                name: name.clone(),
                columns: columns_of(columns),
                key,
                sequenced: Vec::new(),
                deferred: Vec::new(),
            };
            tables.insert(name, table);
        }
        let foreign_keys = sqlx::query_as(
            "SELECT m.name, CAST(f.id AS TEXT), f.\"table\", f.\"from\", c.\"notnull\" <> 0 FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f JOIN pragma_table_info(m.name) c ON c.name = f.\"from\" WHERE m.type = 'table'",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
        planned(tables, foreign_keys)
    }
}

mod postgres {
    use super::*;

    /// The schema's tables in load order.
    pub(super) async fn tables(conn: &mut PgConnection) -> Result<Vec<Table>, BackupError> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
        let mut tables = BTreeMap::new();
        for name in names {
            let relation = quoted(&name);
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT attname::text, format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            )
            .bind(&relation)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
            let key = sqlx::query_scalar(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
            )
            .bind(&relation)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
            let sequenced = sqlx::query_scalar(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped AND pg_get_serial_sequence($1, attname) IS NOT NULL",
            )
            .bind(&relation)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
            let table = Table {
                name: name.clone(),
                columns: columns_of(columns),
                key,
                sequenced,
                deferred: Vec::new(),
            };
            tables.insert(name, table);
        }
        let foreign_keys = sqlx::query_as(
            "SELECT f.relname::text, c.conname::text, t.relname::text, a.attname::text, a.attnotnull FROM pg_constraint c JOIN pg_class f ON f.oid = c.conrelid JOIN pg_class t ON t.oid = c.confrelid JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
        planned(tables, foreign_keys)
    }

    /// Moves each id sequence past the ids loaded, so the next row gets a fresh one.
    pub(super) async fn restart_sequences(
        conn: &mut PgConnection,
        tables: &[Table],
    ) -> Result<(), BackupError> {
        for table in tables {
            for column in &table.sequenced {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(MAX({}), 0) + 1, false) FROM {}",
                    literal(&quoted(&table.name)),
                    literal(column),
                    quoted(column),
                    quoted(&table.name)
                );
                sqlx::query(&sql)
                    .execute(&mut *conn)
                    .await
                    .map_err(StorageError::from)?;
            }
        }
        Ok(())
    }
}

fn columns_of(declared: Vec<(String, String)>) -> Vec<Column> {
    declared
        .into_iter()
        .map(|(name, declared)| Column {
            kind: Kind::of(&declared),
            name,
        })
        .collect()
}

fn order_by(key: &[String]) -> String {
    if key.is_empty() {
        return String::new();
    }
    let key: Vec<String> = key.iter().map(|k| quoted(k)).collect();
    format!(" ORDER BY {}", key.join(", "))
}

//! Durable storage of events: SQLite in WAL mode, one database per home.
//!
//! Events are stored as the exact bytes their authors signed. An event is inserted only after
//! its parents, so the heads of a negotiation are kept incrementally. Inserts are idempotent.

use std::path::Path;
use std::time::Duration;

use entente_protocol::{Event, EventId, NegotiationId};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

/// Errors of the store; they name the database operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored event {id} is unreadable ({reason}): the database is damaged")]
    Corrupt { id: String, reason: String },
    #[error(
        "the database was written by a newer Entente (schema {found}, this build knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("value out of range for the database: {0}")]
    Range(&'static str),
}

type Result<T> = std::result::Result<T, StoreError>;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: events, their parent links and the heads of each negotiation.
    "CREATE TABLE events (
         id          BLOB PRIMARY KEY,
         negotiation BLOB NOT NULL,
         lamport     INTEGER NOT NULL,
         author      BLOB NOT NULL,
         kind        TEXT NOT NULL,
         time        INTEGER NOT NULL,
         wire        BLOB NOT NULL,
         received_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX events_order ON events(negotiation, lamport, id);
     CREATE TABLE parents (
         child  BLOB NOT NULL,
         parent BLOB NOT NULL,
         PRIMARY KEY (child, parent)
     ) WITHOUT ROWID;
     CREATE INDEX parents_parent ON parents(parent);
     CREATE TABLE heads (
         negotiation BLOB NOT NULL,
         id          BLOB NOT NULL,
         PRIMARY KEY (negotiation, id)
     ) WITHOUT ROWID;",
];

pub struct Store {
    conn: Connection,
}

fn to_i64(x: u64, what: &'static str) -> Result<i64> {
    i64::try_from(x).map_err(|_| StoreError::Range(what))
}

fn id_from(bytes: Vec<u8>) -> Result<EventId> {
    let arr: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| StoreError::Corrupt {
        id: hex::encode(&b),
        reason: "id is not 32 bytes".into(),
    })?;
    Ok(EventId(arr))
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        // WAL with synchronous=FULL: a committed transaction survives kill -9 and power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let known = MIGRATIONS.len() as i64;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tracing::info!(version = i + 1, "applying database migration");
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Starts a write transaction that holds the database's write lock from the start, so that
    /// reading the heads and inserting a child of them cannot interleave with another writer.
    pub fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Inserts an event whose parents are already stored. Returns false if it was already there.
pub fn insert(conn: &Connection, event: &Event, received_at: u64) -> Result<bool> {
    let negotiation = event.negotiation();
    let added = conn.execute(
        "INSERT OR IGNORE INTO events (id, negotiation, lamport, author, kind, time, wire, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            event.id.as_bytes(),
            negotiation.as_bytes(),
            to_i64(event.header.lamport, "lamport")?,
            event.header.author.as_bytes(),
            event.header.kind,
            to_i64(event.header.time, "time")?,
            event.to_wire(),
            to_i64(received_at, "received_at")?,
        ],
    )?;
    if added == 0 {
        return Ok(false);
    }
    let mut link =
        conn.prepare_cached("INSERT OR IGNORE INTO parents (child, parent) VALUES (?1, ?2)")?;
    let mut unhead = conn.prepare_cached("DELETE FROM heads WHERE negotiation = ?1 AND id = ?2")?;
    for p in &event.header.parents {
        link.execute(params![event.id.as_bytes(), p.as_bytes()])?;
        unhead.execute(params![negotiation.as_bytes(), p.as_bytes()])?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO heads (negotiation, id) VALUES (?1, ?2)",
        params![negotiation.as_bytes(), event.id.as_bytes()],
    )?;
    Ok(true)
}

/// The heads (events without stored children) of a negotiation, ascending.
pub fn heads(conn: &Connection, negotiation: &NegotiationId) -> Result<Vec<EventId>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM heads WHERE negotiation = ?1 ORDER BY id")?;
    let rows = stmt.query_map([negotiation.as_bytes()], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|r| id_from(r?)).collect()
}

/// The lamport of a stored event of `negotiation`, if there is one.
pub fn lamport_of(
    conn: &Connection,
    negotiation: &NegotiationId,
    id: &EventId,
) -> Result<Option<u64>> {
    let mut stmt =
        conn.prepare_cached("SELECT lamport FROM events WHERE id = ?1 AND negotiation = ?2")?;
    let v: Option<i64> = stmt
        .query_row(params![id.as_bytes(), negotiation.as_bytes()], |r| r.get(0))
        .optional()?;
    Ok(v.map(|l| l as u64))
}

/// Every event of a negotiation in fold order (lamport, then id).
pub fn events(conn: &Connection, negotiation: &NegotiationId) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, wire FROM events WHERE negotiation = ?1 ORDER BY lamport, id",
    )?;
    let rows = stmt.query_map([negotiation.as_bytes()], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    rows.map(|r| {
        let (id, wire) = r?;
        Event::from_wire(&wire).map_err(|e| StoreError::Corrupt {
            id: hex::encode(&id),
            reason: e.to_string(),
        })
    })
    .collect()
}

/// Ids of the negotiations in the store (their charters), oldest first.
pub fn negotiations(conn: &Connection) -> Result<Vec<NegotiationId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM events WHERE kind = 'charter' AND id = negotiation ORDER BY time, id",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|r| id_from(r?)).collect()
}

/// Every stored ancestor of `id` (not including it), ascending. Sync builds on this: what a peer
/// lacks is what is not an ancestor of its heads.
pub fn ancestors(conn: &Connection, id: &EventId) -> Result<Vec<EventId>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE up(id) AS (
             SELECT parent FROM parents WHERE child = ?1
             UNION
             SELECT p.parent FROM parents p JOIN up ON p.child = up.id
         )
         SELECT id FROM up ORDER BY id",
    )?;
    let rows = stmt.query_map([id.as_bytes()], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|r| id_from(r?)).collect()
}

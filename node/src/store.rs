//! Durable storage of events: SQLite in WAL mode, one database per home.
//!
//! Events are stored as the exact bytes their authors signed. An event is inserted only after
//! its parents, so the heads of a negotiation are kept incrementally. Inserts are idempotent.

use std::path::Path;
use std::time::Duration;

use entente_protocol::dag::{ParentInfo, is_shared_channel};
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
    // 2: arrival order (what a running node has not yet published), small settings, and the
    //    addresses peers were last seen at, so that a restarted node can find them again.
    "CREATE TABLE arrivals (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id  BLOB NOT NULL
     );
     INSERT INTO arrivals (id) SELECT id FROM events ORDER BY received_at, lamport, id;
     CREATE TABLE meta (
         key   TEXT PRIMARY KEY,
         value TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE peer_addrs (
         peer TEXT NOT NULL,
         addr TEXT NOT NULL,
         seen INTEGER NOT NULL,
         PRIMARY KEY (peer, addr)
     ) WITHOUT ROWID;",
    // 3: each event's channel, so that authors build on what their channel's readers hold and
    //    sync sends restricted channels only to their readers. Filled in by `backfill_channels`.
    "ALTER TABLE events ADD COLUMN channel TEXT;
     CREATE INDEX events_channel ON events(negotiation, channel);",
    // 4: events in a rowid table. Rows of about 1 KiB clustered by a random 32-byte id made
    //    every insert land on a random page and every read in fold order jump about the file;
    //    rowids follow arrival order, which is close to fold order, and the id index stays small.
    "CREATE TABLE events_v4 (
         seq         INTEGER PRIMARY KEY,
         id          BLOB NOT NULL UNIQUE,
         negotiation BLOB NOT NULL,
         lamport     INTEGER NOT NULL,
         author      BLOB NOT NULL,
         kind        TEXT NOT NULL,
         time        INTEGER NOT NULL,
         wire        BLOB NOT NULL,
         received_at INTEGER NOT NULL,
         channel     TEXT
     );
     INSERT INTO events_v4 (id, negotiation, lamport, author, kind, time, wire, received_at, channel)
         SELECT id, negotiation, lamport, author, kind, time, wire, received_at, channel
         FROM events ORDER BY negotiation, lamport, id;
     DROP TABLE events;
     ALTER TABLE events_v4 RENAME TO events;
     CREATE INDEX events_order ON events(negotiation, lamport, id);
     CREATE INDEX events_channel ON events(negotiation, channel);",
    // 5: the heads of each lane (shared events, and each restricted channel's own events), kept
    //    on insert, so that an author finds what to build on without scanning the negotiation.
    //    Channels are all known here: `backfill_channels` runs right after migration 3.
    "CREATE TABLE lane_heads (
         negotiation BLOB NOT NULL,
         lane        TEXT NOT NULL,
         id          BLOB NOT NULL,
         PRIMARY KEY (negotiation, lane, id)
     ) WITHOUT ROWID;
     INSERT INTO lane_heads (negotiation, lane, id)
         SELECT e.negotiation,
                CASE WHEN e.channel IN ('governance', 'plenary') THEN 'governance' ELSE e.channel END,
                e.id
         FROM events e
         WHERE NOT EXISTS (
             SELECT 1 FROM parents p JOIN events c ON c.id = p.child
             WHERE p.parent = e.id
               AND (CASE WHEN c.channel IN ('governance', 'plenary') THEN 'governance' ELSE c.channel END)
                 = (CASE WHEN e.channel IN ('governance', 'plenary') THEN 'governance' ELSE e.channel END));",
];

/// The lane of the migration-5 table `lane_heads` that an event of `channel` belongs to: shared
/// events build only on shared ones, restricted events on shared ones and their channel's.
/// Shared events are filed under "governance", a name no restricted channel can have (any other
/// string, the empty one included, can arrive as a channel name).
fn lane(channel: &str) -> &str {
    if is_shared_channel(channel) {
        SHARED_LANE
    } else {
        channel
    }
}

const SHARED_LANE: &str = "governance";

/// The schema version after which `backfill_channels` must run (the channel column's).
const CHANNELS_ADDED: usize = 3;
/// The schema version whose migration reads every event's channel (`lane_heads`).
const LANE_HEADS_ADDED: usize = 5;

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
        // 32 MiB of page cache (the default is 2 MiB): a 100k-event negotiation is ~100 MiB.
        conn.pragma_update(None, "cache_size", -32_768)?;
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
            // A store left at version 3 or 4 by an older build may not have been backfilled
            // (that build backfilled in a transaction of its own, after the migrations).
            if i + 1 == LANE_HEADS_ADDED {
                backfill_channels(&tx)?;
            }
            tx.execute_batch(sql)?;
            if i + 1 == CHANNELS_ADDED {
                backfill_channels(&tx)?;
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Reads the channel of events stored before the store kept it (migration 3).
fn backfill_channels(tx: &Connection) -> Result<()> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut stmt = tx.prepare("SELECT id, wire FROM events WHERE channel IS NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, wire) in rows {
        let event = Event::from_verified_wire(&wire).map_err(|e| StoreError::Corrupt {
            id: hex::encode(&id),
            reason: e.to_string(),
        })?;
        tx.execute(
            "UPDATE events SET channel = ?1 WHERE id = ?2",
            params![event.header.channel, id],
        )?;
    }
    Ok(())
}

impl Store {
    /// Starts a write transaction that holds the database's write lock from the start, so that
    /// reading the heads and inserting a child of them cannot interleave with another writer.
    /// For a store whose writes can be fetched again (a running node's copies of other members'
    /// events): commits no longer wait for the disk (WAL with synchronous=NORMAL), so a power
    /// loss may forget the last of them but never corrupts the store. Commands that acknowledge
    /// a delegation's own events keep their own connection at synchronous=FULL.
    pub fn relax_durability(&self) -> Result<()> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(())
    }

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
    let added = conn.prepare_cached(
        "INSERT OR IGNORE INTO events (id, negotiation, lamport, author, kind, time, wire, received_at, channel)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
            event.id.as_bytes(),
            negotiation.as_bytes(),
            to_i64(event.header.lamport, "lamport")?,
            event.header.author.as_bytes(),
            event.header.kind,
            to_i64(event.header.time, "time")?,
            event.to_wire(),
            to_i64(received_at, "received_at")?,
            event.header.channel,
    ])?;
    if added == 0 {
        return Ok(false);
    }
    let mut link =
        conn.prepare_cached("INSERT OR IGNORE INTO parents (child, parent) VALUES (?1, ?2)")?;
    let mut unhead = conn.prepare_cached("DELETE FROM heads WHERE negotiation = ?1 AND id = ?2")?;
    // A parent in another lane (a shared parent of a restricted event) stays its lane's head.
    let mut unhead_lane = conn.prepare_cached(
        "DELETE FROM lane_heads WHERE negotiation = ?1 AND lane = ?2 AND id = ?3",
    )?;
    let lane = lane(&event.header.channel);
    for p in &event.header.parents {
        link.execute(params![event.id.as_bytes(), p.as_bytes()])?;
        unhead.execute(params![negotiation.as_bytes(), p.as_bytes()])?;
        unhead_lane.execute(params![negotiation.as_bytes(), lane, p.as_bytes()])?;
    }
    conn.prepare_cached("INSERT OR IGNORE INTO heads (negotiation, id) VALUES (?1, ?2)")?
        .execute(params![negotiation.as_bytes(), event.id.as_bytes()])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO lane_heads (negotiation, lane, id) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![negotiation.as_bytes(), lane, event.id.as_bytes()])?;
    conn.prepare_cached("INSERT INTO arrivals (id) VALUES (?1)")?
        .execute([event.id.as_bytes()])?;
    Ok(true)
}

/// Events stored after arrival number `after`, with their arrival numbers, oldest first.
pub fn arrivals_since(conn: &Connection, after: i64, limit: usize) -> Result<Vec<(i64, Event)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.seq, e.id, e.wire FROM arrivals a JOIN events e ON e.id = a.id
         WHERE a.seq > ?1 ORDER BY a.seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    rows.map(|r| {
        let (seq, id, wire) = r?;
        let event = Event::from_verified_wire(&wire).map_err(|e| StoreError::Corrupt {
            id: hex::encode(&id),
            reason: e.to_string(),
        })?;
        Ok((seq, event))
    })
    .collect()
}

/// The newest arrival number (0 when empty).
pub fn last_arrival(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM arrivals", [], |r| {
            r.get(0)
        })?,
    )
}

/// Whether an event is stored.
pub fn contains(conn: &Connection, id: &EventId) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM events WHERE id = ?1")?;
    Ok(stmt
        .query_row([id.as_bytes()], |_| Ok(()))
        .optional()?
        .is_some())
}

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
        params![key, value],
    )?;
    Ok(())
}

/// Remembers that `peer` was reachable at `addr`.
pub fn remember_addr(conn: &Connection, peer: &str, addr: &str, seen: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO peer_addrs (peer, addr, seen) VALUES (?1, ?2, ?3)
         ON CONFLICT(peer, addr) DO UPDATE SET seen = ?3",
    )?
    .execute(params![peer, addr, to_i64(seen, "seen")?])?;
    Ok(())
}

/// The addresses `peer` was last seen at, most recent first.
pub fn peer_addrs(conn: &Connection, peer: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT addr FROM peer_addrs WHERE peer = ?1 ORDER BY seen DESC LIMIT 8")?;
    let rows = stmt.query_map([peer], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The heads (events without stored children) of a negotiation, ascending.
pub fn heads(conn: &Connection, negotiation: &NegotiationId) -> Result<Vec<EventId>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM heads WHERE negotiation = ?1 ORDER BY id")?;
    let rows = stmt.query_map([negotiation.as_bytes()], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|r| id_from(r?)).collect()
}

/// The heads of what a reader of `channel` holds: shared (governance and plenary) events and
/// events of `channel` that no such event builds on. An event posted to `channel` builds on these.
pub fn heads_in_view(
    conn: &Connection,
    negotiation: &NegotiationId,
    channel: &str,
) -> Result<Vec<EventId>> {
    // The channel's own heads, and the shared heads that none of its events builds on yet.
    let mut stmt = conn.prepare_cached(
        "SELECT v.id FROM lane_heads v
         WHERE v.negotiation = ?1
           AND (v.lane = ?2 OR (v.lane = ?4 AND NOT EXISTS (
               SELECT 1 FROM parents p JOIN events c ON c.id = p.child
               WHERE p.parent = v.id AND c.channel = ?3)))
         ORDER BY v.id",
    )?;
    let rows = stmt.query_map(
        params![negotiation.as_bytes(), lane(channel), channel, SHARED_LANE],
        |r| r.get::<_, Vec<u8>>(0),
    )?;
    rows.map(|r| id_from(r?)).collect()
}

/// What a link check needs of a stored event of `negotiation` (lamport and channel).
pub fn parent_info(
    conn: &Connection,
    negotiation: &NegotiationId,
    id: &EventId,
) -> Result<Option<ParentInfo>> {
    let mut stmt = conn
        .prepare_cached("SELECT lamport, channel FROM events WHERE id = ?1 AND negotiation = ?2")?;
    let v: Option<(i64, Option<String>)> = stmt
        .query_row(params![id.as_bytes(), negotiation.as_bytes()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(v.map(|(l, c)| ParentInfo {
        lamport: l as u64,
        channel: c.unwrap_or_default(),
    }))
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

/// Every event of a negotiation in fold order (lamport, then id). Signatures are not checked
/// again: every stored event was verified on its way in.
pub fn events(conn: &Connection, negotiation: &NegotiationId) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, wire FROM events WHERE negotiation = ?1 ORDER BY lamport, id",
    )?;
    let rows = stmt.query_map([negotiation.as_bytes()], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    rows.map(|r| {
        let (id, wire) = r?;
        Event::from_verified_wire(&wire).map_err(|e| StoreError::Corrupt {
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

#[cfg(test)]
pub(crate) mod tests {
    use entente_protocol::event::EventHeader;
    use entente_protocol::identity::{delegation_id, device_id};
    use entente_protocol::{
        Body, Charter, DecisionRule, DeviceCertificate, SealingKey, SignedCertificate, SigningKey,
    };

    use super::*;

    pub(crate) fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    pub(crate) fn charter() -> Event {
        let k = key();
        let cert = SignedCertificate::issue(
            &k,
            DeviceCertificate {
                delegation: delegation_id(&k),
                device: device_id(&k),
                sealing_key: SealingKey([0; 32]),
                label: "test".into(),
                not_after: None,
            },
        );
        let body = Body::Charter(Charter {
            title: "Store test".into(),
            mandate: String::new(),
            languages: vec!["en".into()],
            decision_rule: DecisionRule::Consensus,
            silence_period_secs: 0,
            chair_name: "Chair".into(),
            chair: cert,
            attribute_brackets: true,
        });
        Event::sign(
            EventHeader::new(None, device_id(&k), vec![], 0, 1, &body),
            &k,
        )
        .expect("signs")
    }

    pub(crate) fn child(neg: &Event, parents: &[&Event], text: &str) -> Event {
        let lamport = parents
            .iter()
            .map(|p| p.header.lamport + 1)
            .max()
            .unwrap_or(0);
        let body = Body::Message { text: text.into() };
        let header = EventHeader::new(
            Some(neg.id),
            device_id(&key()),
            parents.iter().map(|p| p.id).collect(),
            lamport,
            2,
            &body,
        );
        Event::sign(header, &key()).expect("signs")
    }

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("test.db")).expect("opens");
        (dir, store)
    }

    #[test]
    fn inserts_are_idempotent_and_heads_follow_the_dag() {
        let (_dir, store) = temp_store();
        let c = store.conn();
        let g = charter();
        let a = child(&g, &[&g], "a");
        let b = child(&g, &[&g], "b");
        let m = child(&g, &[&a, &b], "merge");
        assert!(insert(c, &g, 0).expect("insert"));
        assert!(!insert(c, &g, 0).expect("insert again"));
        assert_eq!(heads(c, &g.id).expect("heads"), vec![g.id]);
        insert(c, &a, 0).expect("insert");
        insert(c, &b, 0).expect("insert");
        let mut ab = vec![a.id, b.id];
        ab.sort();
        assert_eq!(heads(c, &g.id).expect("heads"), ab);
        insert(c, &m, 0).expect("insert");
        assert_eq!(heads(c, &g.id).expect("heads"), vec![m.id]);
        assert_eq!(lamport_of(c, &g.id, &m.id).expect("lamport"), Some(2));
        let order: Vec<_> = events(c, &g.id)
            .expect("events")
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(order.len(), 4);
        assert_eq!((order[0], order[3]), (g.id, m.id));
        let mut up = vec![g.id, a.id, b.id];
        up.sort();
        assert_eq!(ancestors(c, &m.id).expect("ancestors"), up);
        assert_eq!(negotiations(c).expect("list"), vec![g.id]);
    }

    #[test]
    fn reopening_keeps_events_and_schema_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.db");
        let g = charter();
        {
            let store = Store::open(&path).expect("opens");
            insert(store.conn(), &g, 0).expect("insert");
        }
        let store = Store::open(&path).expect("reopens");
        let v: i64 = store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
        assert_eq!(events(store.conn(), &g.id).expect("events").len(), 1);
    }

    /// A store written before events moved to a rowid table (schema 3) keeps every event, link
    /// and head when it is opened by this build.
    #[test]
    fn a_schema_3_store_is_migrated_without_loss() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        let g = charter();
        let a = child(&g, &[&g], "a");
        let b = child(&g, &[&a], "b");
        {
            let conn = Connection::open(&path).expect("opens");
            for sql in &MIGRATIONS[..3] {
                conn.execute_batch(sql).expect("old schema");
            }
            conn.pragma_update(None, "user_version", 3)
                .expect("version");
            for e in [&g, &a, &b] {
                insert_schema_3(&conn, e);
            }
        }
        let store = Store::open(&path).expect("migrates");
        let c = store.conn();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
        let ids: Vec<_> = events(c, &g.id)
            .expect("events")
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, vec![g.id, a.id, b.id]);
        assert_eq!(heads(c, &g.id).expect("heads"), vec![b.id]);
        assert_eq!(
            heads_in_view(c, &g.id, "plenary").expect("lane heads filled"),
            vec![b.id]
        );
        assert_eq!(
            parent_info(c, &g.id, &a.id)
                .expect("info")
                .map(|p| p.lamport),
            Some(1)
        );
        let mut up = vec![g.id, a.id];
        up.sort();
        assert_eq!(ancestors(c, &b.id).expect("ancestors"), up);
        assert_eq!(arrivals_since(c, 0, 10).expect("arrivals").len(), 3);
        assert!(!insert(c, &b, 0).expect("a duplicate is still refused"));
    }

    /// An older build committed migrations 3 and 4, then was killed before its separate
    /// backfill of channels: migration 5 still finds every event's lane.
    #[test]
    fn a_version_4_store_without_backfilled_channels_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        let g = charter();
        let a = child(&g, &[&g], "a");
        {
            let conn = Connection::open(&path).expect("opens");
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).expect("old schema");
            }
            conn.pragma_update(None, "user_version", 4)
                .expect("version");
            for e in [&g, &a] {
                insert_schema_3(&conn, e);
            }
            conn.execute_batch("UPDATE events SET channel = NULL")
                .expect("not backfilled");
        }
        let store = Store::open(&path).expect("migrates");
        assert_eq!(
            heads_in_view(store.conn(), &g.id, "plenary").expect("heads"),
            vec![a.id]
        );
    }

    /// What `insert` wrote before migration 4.
    fn insert_schema_3(conn: &Connection, e: &Event) {
        let neg = e.negotiation();
        conn.execute(
            "INSERT INTO events (id, negotiation, lamport, author, kind, time, wire, received_at, channel)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 5, ?8)",
            params![
                e.id.as_bytes(),
                neg.as_bytes(),
                e.header.lamport as i64,
                e.header.author.as_bytes(),
                e.header.kind,
                e.header.time as i64,
                e.to_wire(),
                e.header.channel,
            ],
        )
        .expect("old insert");
        for p in &e.header.parents {
            conn.execute(
                "INSERT INTO parents (child, parent) VALUES (?1, ?2)",
                params![e.id.as_bytes(), p.as_bytes()],
            )
            .expect("old link");
            conn.execute(
                "DELETE FROM heads WHERE negotiation = ?1 AND id = ?2",
                params![neg.as_bytes(), p.as_bytes()],
            )
            .expect("old unhead");
        }
        conn.execute(
            "INSERT INTO heads (negotiation, id) VALUES (?1, ?2)",
            params![neg.as_bytes(), e.id.as_bytes()],
        )
        .expect("old head");
        conn.execute("INSERT INTO arrivals (id) VALUES (?1)", [e.id.as_bytes()])
            .expect("old arrival");
    }

    /// A message in `channel` on top of `parents`.
    fn in_channel(neg: &Event, parents: &[&Event], text: &str, channel: &str) -> Event {
        let mut header = child(neg, parents, text).header;
        header.channel = channel.into();
        Event::sign(header, &key()).expect("signs")
    }

    /// The heads of a channel's view by scanning the whole negotiation (the query that
    /// `lane_heads` replaced): the reference the maintained table must agree with.
    fn heads_in_view_by_scan(
        conn: &Connection,
        neg: &NegotiationId,
        channel: &str,
    ) -> Vec<EventId> {
        let mut stmt = conn
            .prepare(
                "SELECT e.id FROM events e
                 WHERE e.negotiation = ?1 AND e.channel IN ('governance', 'plenary', ?2)
                   AND NOT EXISTS (
                       SELECT 1 FROM parents p JOIN events c ON c.id = p.child
                       WHERE p.parent = e.id AND c.channel IN ('governance', 'plenary', ?2))
                 ORDER BY e.id",
            )
            .expect("prepare");
        let rows = stmt
            .query_map(params![neg.as_bytes(), channel], |r| r.get::<_, Vec<u8>>(0))
            .expect("query");
        rows.map(|r| id_from(r.expect("row")).expect("id"))
            .collect()
    }

    /// Random DAGs of shared and restricted events, each built on what its channel's readers may
    /// hold: after every insert, and after migration 5 rebuilt the table from scratch, the
    /// maintained heads of every view are exactly those a full scan finds.
    #[test]
    fn maintained_lane_heads_match_a_full_scan() {
        // "" is a channel name too: it must not be taken for the shared lane.
        const CHANNELS: [&str; 5] = ["plenary", "governance", "proximity-a", "proximity-b", ""];
        for seed in 1..=8u64 {
            let (_dir, store) = temp_store();
            let c = store.conn();
            let g = charter();
            insert(c, &g, 0).expect("insert");
            let mut all = vec![g.clone()];
            let mut rng = seed;
            let mut next = |n: usize| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((rng >> 33) as usize) % n
            };
            for i in 0..120 {
                let channel = CHANNELS[next(CHANNELS.len())];
                let allowed: Vec<&Event> = all
                    .iter()
                    .filter(|e| is_shared_channel(&e.header.channel) || e.header.channel == channel)
                    .collect();
                let mut parents: Vec<&Event> = (0..1 + next(3))
                    .map(|_| allowed[allowed.len() - 1 - next(allowed.len().min(6))])
                    .collect();
                parents.sort_by_key(|e| e.id);
                parents.dedup_by_key(|e| e.id);
                let e = in_channel(&g, &parents, &format!("{seed}/{i}"), channel);
                insert(c, &e, 0).expect("insert");
                all.push(e);
                for view in CHANNELS {
                    assert_eq!(
                        heads_in_view(c, &g.id, view).expect("heads"),
                        heads_in_view_by_scan(c, &g.id, view),
                        "seed {seed}, after event {i}, view {view}"
                    );
                }
            }
            c.execute_batch("DROP TABLE lane_heads").expect("drop");
            c.execute_batch(MIGRATIONS[4]).expect("migration 5 again");
            for view in CHANNELS {
                assert_eq!(
                    heads_in_view(c, &g.id, view).expect("heads"),
                    heads_in_view_by_scan(c, &g.id, view),
                    "seed {seed}, migrated, view {view}"
                );
            }
        }
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.db");
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", 99))
            .expect("prepare");
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}

//! Live updates: every event stored (by a command, the API or the network) is announced to the
//! browsers as a server-sent event, within a quarter of a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::Api;
use crate::home::Home;
use crate::store::{self, Store};

const POLL: Duration = Duration::from_millis(250);

/// What a browser is told about a new event (it fetches what it needs to show).
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    pub negotiation: entente_protocol::NegotiationId,
    pub event: entente_protocol::EventId,
    pub kind: String,
    pub channel: String,
}

/// Watches the store's arrivals in a thread of its own (SQLite is synchronous).
pub fn watch_store(
    home: Home,
    live: broadcast::Sender<LiveEvent>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let store = Store::open(&home.database())?;
    let mut after = store::last_arrival(store.conn())?;
    std::thread::Builder::new()
        .name("api-live".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match store::arrivals_since(store.conn(), after, 1000) {
                    Ok(arrivals) => {
                        for (seq, e) in arrivals {
                            after = seq;
                            // Nobody listening is fine.
                            let _ = live.send(LiveEvent {
                                negotiation: e.negotiation(),
                                event: e.id,
                                kind: e.header.kind.clone(),
                                channel: e.header.channel.clone(),
                            });
                        }
                    }
                    Err(e) => tracing::warn!("live updates cannot read the store: {e}"),
                }
                std::thread::sleep(POLL);
            }
        })?;
    Ok(())
}

/// `GET /api/events`: a stream of `event` messages with a `LiveEvent` as JSON data.
pub async fn events(
    State(api): State<Api>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let stream = BroadcastStream::new(api.inner.live.subscribe()).filter_map(|m| match m {
        Ok(e) => Event::default().event("event").json_data(&e).ok().map(Ok),
        // A slow reader missed some: tell it to refresh everything.
        Err(_) => Some(Ok(Event::default().event("resync").data("{}"))),
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

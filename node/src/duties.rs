//! What a running node does by itself for its delegation: confirm receipt of texts under
//! silence procedure, because silence counts as consent only for those who had the text.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use entente_protocol::decisions::Decision;
use entente_protocol::{Body, NegotiationState};

use crate::home::Home;
use crate::identity::Identity;
use crate::workspace::Workspace;

const TICK: Duration = Duration::from_millis(500);

/// Runs until `stop` is set: after every change to the store, posts a receipt for each open
/// silence procedure whose text this device holds and has not confirmed yet.
pub fn receipts(home: &Home, me: &Identity, stop: &Arc<AtomicBool>) -> Result<()> {
    let mut ws = Workspace::open(home)?;
    let mut seen = -1;
    while !stop.load(Ordering::Relaxed) {
        let now = ws.last_arrival()?;
        if now != seen {
            seen = now;
            for neg in ws.negotiations()? {
                if let Err(e) = receipts_for(&mut ws, me, &neg) {
                    tracing::warn!(negotiation = %neg, "cannot confirm receipt of a text: {e:#}");
                }
            }
        }
        std::thread::sleep(TICK);
    }
    Ok(())
}

fn receipts_for(
    ws: &mut Workspace,
    me: &Identity,
    negotiation: &entente_protocol::NegotiationId,
) -> Result<()> {
    let state = ws.state(negotiation)?;
    if due(state, me).next().is_none() {
        return Ok(());
    }
    // The room below needs the workspace again.
    let state = state.clone();
    // Receipt means "this device can read the text, and it is the text under silence".
    let room = crate::room::Room::load(ws, me, negotiation)?;
    for silence in due(&state, me) {
        let Some(revision) = room.draft.revision(&silence.revision) else {
            continue;
        };
        if revision.hashes() != silence.hashes {
            tracing::warn!(
                silence = %silence.id,
                "the hashes under silence are not those of the revision this device reads: no receipt"
            );
            continue;
        }
        ws.post(
            me,
            negotiation,
            Body::Decision(Decision::Receipt {
                silence: silence.id,
            }),
        )?;
        tracing::info!(silence = %silence.id, "confirmed receipt of the text under silence");
    }
    Ok(())
}

/// Open silence procedures this device has not confirmed, if its delegation is an active member.
fn due<'a>(
    state: &'a NegotiationState,
    me: &'a Identity,
) -> impl Iterator<Item = &'a entente_protocol::procedure::Silence> + 'a {
    let active = state
        .members
        .get(&me.public.delegation)
        .is_some_and(|m| m.status.is_member() && m.devices.contains_key(&me.public.device));
    state
        .procedure
        .silences
        .values()
        .filter(move |s| active && s.close.is_none() && !s.receipts.contains_key(&me.public.device))
}

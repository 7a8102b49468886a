//! Handlers for identity, negotiations, members, messages, the log and exports.

use anyhow::{Context, anyhow};
use axum::Json;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header;
use axum::response::IntoResponse;
use entente_protocol::{Body, Charter, DecisionRule, DelegationId, Role};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Api;
use super::error::{ApiError, ApiResult};
use crate::home::Home;
use crate::identity::Identity;
use crate::room::Room;
use crate::workspace::Workspace;

/// A JSON body whose problems come back as a 400 with the reason.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(r) => Err(ApiError::bad_request(r.body_text())),
        }
    }
}

/// Query parameters whose problems come back as a 400 with the reason.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(r) => Err(ApiError::bad_request(r.body_text())),
        }
    }
}

/// Runs blocking work (SQLite, folding, sealing) off the async threads.
pub async fn run<T: Send + 'static>(
    api: &Api,
    f: impl FnOnce(&Home, &Identity) -> anyhow::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let (home, me) = (api.inner.home.clone(), api.inner.me.clone());
    let done = tokio::task::spawn_blocking(move || f(&home, &me))
        .await
        .map_err(|e| anyhow!(e))?
        .map_err(ApiError::from);
    // What a request wrote goes out now rather than at the node's next poll of the store.
    if done.is_ok()
        && let Some(node) = &api.inner.node
        && let Err(e) = node.poll_store().await
    {
        tracing::debug!("the node did not take the nudge: {e:#}");
    }
    done
}

/// Runs `f` in the room of negotiation `neg` (an id or a unique prefix).
pub async fn in_room<T: Send + 'static>(
    api: &Api,
    neg: String,
    f: impl FnOnce(&mut Workspace, &Identity, &Room) -> anyhow::Result<T> + Send + 'static,
) -> ApiResult<T> {
    run(api, move |home, me| {
        let mut ws = Workspace::open(home)?;
        let id = ws.resolve(&neg)?;
        let room = Room::load(&ws, me, &id)?;
        f(&mut ws, me, &room)
    })
    .await
}

#[derive(Deserialize)]
pub struct LoginBody {
    code: String,
}

pub async fn login(
    State(api): State<Api>,
    JsonBody(b): JsonBody<LoginBody>,
) -> ApiResult<Json<Value>> {
    let home = api.inner.home.clone();
    let ok = run(&api, move |_, _| super::auth::redeem_login(&home, &b.code)).await?;
    if !ok {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "this login code is unknown, used or expired: run `entente web` for a new address",
        ));
    }
    Ok(Json(json!({"token": api.token()})))
}

pub async fn health() -> Json<Value> {
    Json(json!({"ok": true, "version": env!("CARGO_PKG_VERSION")}))
}

pub async fn me(State(api): State<Api>) -> ApiResult<Json<Value>> {
    let me = &api.inner.me.public;
    let fp = entente_protocol::fingerprint(me.delegation.as_bytes());
    Ok(Json(json!({
        "name": me.name, "delegation": me.delegation, "device": me.device,
        "fingerprint": fp.short, "safety_words": fp.words,
        "qr": crate::commands::identity_qr(&me.delegation)?,
    })))
}

pub async fn negotiations(State(api): State<Api>) -> ApiResult<Json<Value>> {
    run(&api, |home, me| {
        let ws = Workspace::open(home)?;
        let mut rows = Vec::new();
        for neg in ws.negotiations()? {
            let (events, state) = ws.load(&neg)?;
            let mine = state.members.get(&me.public.delegation);
            rows.push(json!({
                "negotiation": neg, "title": state.charter.title, "events": events.len(),
                "languages": state.charter.languages,
                "members": state.members.values().filter(|m| m.status.is_member()).count(),
                "my_role": mine.map(|m| m.role), "my_status": mine.map(|m| m.status),
                "state_hash": hex::encode(state.state_hash()),
            }));
        }
        Ok(Json(Value::Array(rows)))
    })
    .await
}

#[derive(Deserialize)]
pub struct CreateBody {
    title: String,
    #[serde(default)]
    mandate: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    decision_rule: Option<String>,
    #[serde(default)]
    silence_hours: Option<u64>,
}

pub async fn create(
    State(api): State<Api>,
    JsonBody(b): JsonBody<CreateBody>,
) -> ApiResult<Json<Value>> {
    if b.title.trim().is_empty() {
        return Err(ApiError::bad_request("title must not be empty"));
    }
    let rule: DecisionRule = match &b.decision_rule {
        Some(r) => r
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{e}")))?,
        None => DecisionRule::Consensus,
    };
    let languages = if b.languages.is_empty() {
        vec!["en".to_string()]
    } else {
        b.languages
    };
    run(&api, move |home, me| {
        let mut ws = Workspace::open(home)?;
        let charter = Charter {
            title: b.title,
            mandate: b.mandate,
            languages,
            decision_rule: rule,
            silence_period_secs: b.silence_hours.unwrap_or(72).saturating_mul(3600),
            chair_name: me.public.name.clone(),
            chair: me.certificate.clone(),
            attribute_brackets: true,
        };
        let event = ws.create(me, charter)?;
        Ok(Json(json!({"negotiation": event.id})))
    })
    .await
}

/// Summary of a negotiation: charter, members (with fingerprints, safety words, devices and this
/// node's "verified in person" marks), channels, and who this node is in it.
pub async fn negotiation(
    State(api): State<Api>,
    Path(neg): Path<String>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, |ws, me, room| {
        let s = &room.state;
        let mut members = Vec::new();
        for m in s.members.values() {
            let fp = entente_protocol::fingerprint(m.delegation.as_bytes());
            let devices: Vec<String> = m.devices.keys().map(|d| d.to_hex()).collect();
            let verified: Option<Value> = ws
                .meta(&format!("verified:{}", m.delegation))?
                .and_then(|v| serde_json::from_str(&v).ok());
            let known: Vec<String> = verified
                .as_ref()
                .and_then(|v| serde_json::from_value(v["devices"].clone()).ok())
                .unwrap_or_default();
            members.push(json!({
                "delegation": m.delegation, "name": m.name, "role": m.role, "status": m.status,
                "fingerprint": fp.short, "safety_words": fp.words,
                "qr": crate::commands::identity_qr(&m.delegation)?,
                "devices": m.devices.values().map(|d| json!({
                    "device": d.device, "label": d.label,
                    "fingerprint": entente_protocol::fingerprint(d.device.as_bytes()).short,
                })).collect::<Vec<_>>(),
                "verified": verified.is_some(),
                // Verified once, but the devices acting for it changed since: say so.
                "devices_changed": verified.is_some() && known != devices,
                "me": m.delegation == me.public.delegation,
            }));
        }
        let channels: Vec<Value> = s
            .channels
            .defs
            .keys()
            .map(|name| json!({"name": name, "readers": s.channel_delegations(name).unwrap_or_default().iter().map(|d| room.name_of(d)).collect::<Vec<_>>()}))
            .collect();
        let mine = s.members.get(&me.public.delegation);
        Ok(Json(json!({
            "negotiation": room.negotiation, "title": s.charter.title, "mandate": s.charter.mandate,
            "languages": s.charter.languages, "decision_rule": s.charter.decision_rule,
            "silence_period_secs": s.charter.silence_period_secs,
            "members": members, "channels": channels,
            "my_role": mine.map(|m| m.role), "my_delegation": me.public.delegation,
            "pen": s.procedure.penholders.contains(&me.public.delegation) || mine.is_some_and(|m| m.role == Role::Chair),
            "state_hash": hex::encode(s.state_hash()),
            "unreadable": room.unreadable,
        })))
    })
    .await
}

#[derive(Deserialize)]
pub struct VerifiedBody {
    verified: bool,
}

/// Marks a member's delegation as verified in person (fingerprint compared face to face), with
/// the devices it had then; a later change of devices shows as a warning.
pub async fn verify_member(
    State(api): State<Api>,
    Path((neg, delegation)): Path<(String, String)>,
    JsonBody(b): JsonBody<VerifiedBody>,
) -> ApiResult<Json<Value>> {
    let delegation: DelegationId = delegation
        .parse()
        .map_err(|e| ApiError::bad_request(format!("delegation: {e}")))?;
    in_room(&api, neg, move |ws, _, room| {
        let m = room
            .state
            .members
            .get(&delegation)
            .context("no such member in this negotiation")?;
        let key = format!("verified:{delegation}");
        if b.verified {
            let devices: Vec<String> = m.devices.keys().map(|d| d.to_hex()).collect();
            ws.set_meta(
                &key,
                &json!({"devices": devices, "at": crate::workspace::now_ms()}).to_string(),
            )?;
        } else {
            ws.set_meta(&key, "null")?;
        }
        Ok(Json(
            json!({"delegation": delegation, "verified": b.verified}),
        ))
    })
    .await
}

#[derive(Deserialize)]
pub struct InviteBody {
    delegation: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    name: String,
}

pub async fn invite(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<InviteBody>,
) -> ApiResult<Json<Value>> {
    let delegation: DelegationId = b
        .delegation
        .parse()
        .map_err(|e| ApiError::bad_request(format!("delegation: {e}")))?;
    let role: Role = match &b.role {
        Some(r) => r
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{e}")))?,
        None => Role::Delegation,
    };
    let home = api.inner.home.clone();
    in_room(&api, neg, move |ws, me, room| {
        let name = if b.name.trim().is_empty() {
            format!("Delegation {}", delegation.short())
        } else {
            b.name
        };
        let event = ws.post(
            me,
            &room.negotiation,
            Body::Accredit {
                delegation,
                role,
                name,
            },
        )?;
        let token = crate::commands::invitation_token(&home, me, room.negotiation);
        Ok(Json(json!({
            "event": event.id, "delegation": delegation, "role": role,
            "token": token.filter(|(_, reachable)| *reachable).map(|(t, _)| t),
        })))
    })
    .await
}

#[derive(Deserialize)]
pub struct MessageBody {
    text: String,
    #[serde(default)]
    channel: Option<String>,
}

pub async fn say(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<MessageBody>,
) -> ApiResult<Json<Value>> {
    if b.text.trim().is_empty() {
        return Err(ApiError::bad_request("text must not be empty"));
    }
    in_room(&api, neg, move |ws, me, room| {
        let channel = b.channel.unwrap_or_else(|| "plenary".into());
        let event = ws.post_content(
            me,
            &room.negotiation,
            &channel,
            Body::Message { text: b.text },
        )?;
        Ok(Json(json!({"event": event.id, "channel": channel})))
    })
    .await
}

#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    channel: Option<String>,
}

/// The log as `entente log --json` shows it, opened with this device's keys.
pub async fn log(
    State(api): State<Api>,
    Path(neg): Path<String>,
    Params(q): Params<LogQuery>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |_, me, room| {
        let ring = entente_protocol::keyring::Keyring::open(
            &room.state,
            &room.events,
            &me.public.device,
            &me.sealing_secret,
        );
        let entries: Vec<_> = crate::render::log_entries(&room.events, &room.state, Some(&ring))
            .into_iter()
            .filter(|e| q.channel.as_ref().is_none_or(|c| *c == e.channel))
            .collect();
        Ok(Json(serde_json::to_value(entries)?))
    })
    .await
}

/// The complete signed record, as `entente export` writes it.
pub async fn export_record(
    State(api): State<Api>,
    Path(neg): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let bytes = run(&api, move |home, _| {
        let ws = Workspace::open(home)?;
        let id = ws.resolve(&neg)?;
        Ok(ws.export(&id)?.0)
    })
    .await?;
    Ok(attachment(bytes, "record.ent"))
}

/// The public signed text of the latest adoption that stands.
pub async fn export_public(
    State(api): State<Api>,
    Path(neg): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let bytes = in_room(&api, neg, |_, _, room| {
        Ok(crate::actions::public_text(room, None)?.0)
    })
    .await?;
    Ok(attachment(bytes, "public-signed-text.ent"))
}

pub fn attachment(bytes: Vec<u8>, name: &str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
}

#[derive(Deserialize)]
pub struct JoinBody {
    token: String,
}

/// Joins a negotiation by invitation token through the running node: fetches it from the
/// inviter (directly or through the token's relays), then posts this device's join.
pub async fn join(
    State(api): State<Api>,
    JsonBody(b): JsonBody<JoinBody>,
) -> ApiResult<Json<Value>> {
    let invited = crate::commands::invited(b.token.trim())
        .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let node = api.inner.node.clone().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "no network node is running",
        )
    })?;
    let neg = invited.negotiation;
    node.follow(invited).await?;
    let start = std::time::Instant::now();
    loop {
        let accredited = run(&api, move |home, me| {
            crate::actions::accredited(&Workspace::open(home)?, me, &neg)
        })
        .await?;
        if accredited {
            break;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            return Err(ApiError::new(
                axum::http::StatusCode::GATEWAY_TIMEOUT,
                "the negotiation has not arrived from the inviter within 30 s (is their node running and reachable?); the node keeps trying, join again later",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    run(&api, move |home, me| {
        let mut ws = Workspace::open(home)?;
        let (title, event) = crate::actions::join_once(&mut ws, me, &neg)?;
        Ok(Json(
            json!({"negotiation": neg, "title": title, "event": event.map(|e| e.id)}),
        ))
    })
    .await
}

/// A membership or channel change, as the command line posts it.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum GovernanceBody {
    /// Change a member's role (chair).
    Role { delegation: String, role: String },
    /// Remove a member (chair).
    Remove {
        delegation: String,
        #[serde(default)]
        reason: String,
    },
    /// Leave the negotiation.
    Leave {
        #[serde(default)]
        reason: String,
    },
    /// Revoke a device of this delegation (or any, as chair).
    Revoke {
        device: String,
        #[serde(default)]
        reason: String,
    },
    /// Open a restricted channel (chair or mediator).
    Channel { name: String, members: Vec<String> },
    /// Let a delegation circulate revisions, or take the pen back (chair).
    Pen { delegation: String, granted: bool },
    /// Give a delegation the keys of a channel's earlier epochs (chair).
    ShareHistory {
        delegation: String,
        #[serde(default)]
        channel: Option<String>,
    },
    /// A note for the record (sealed in a channel).
    Note {
        text: String,
        #[serde(default)]
        channel: Option<String>,
    },
}

fn parse_id<T: std::str::FromStr>(field: &str, v: &str) -> ApiResult<T>
where
    T::Err: std::fmt::Display,
{
    v.trim()
        .parse()
        .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
}

/// `POST /api/negotiations/{neg}/governance`: every membership and channel change of the CLI.
pub async fn governance(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<GovernanceBody>,
) -> ApiResult<Json<Value>> {
    // Parse everything before anything is written.
    enum Act {
        Post(Body),
        Content(String, Body),
        Pen(String, bool),
        Share(DelegationId, String),
    }
    let act = match b {
        GovernanceBody::Role { delegation, role } => Act::Post(Body::RoleChange {
            delegation: parse_id("delegation", &delegation)?,
            role: parse_id("role", &role)?,
        }),
        GovernanceBody::Remove { delegation, reason } => Act::Post(Body::Remove {
            delegation: parse_id("delegation", &delegation)?,
            reason,
        }),
        GovernanceBody::Leave { reason } => Act::Post(Body::Leave { reason }),
        GovernanceBody::Revoke { device, reason } => Act::Post(Body::Revoke {
            device: parse_id("device", &device)?,
            reason,
        }),
        GovernanceBody::Channel { name, members } => Act::Post(Body::Channel {
            name,
            members: members
                .iter()
                .map(|m| parse_id("members", m))
                .collect::<ApiResult<Vec<_>>>()?,
        }),
        GovernanceBody::Pen {
            delegation,
            granted,
        } => Act::Pen(delegation, granted),
        GovernanceBody::ShareHistory {
            delegation,
            channel,
        } => Act::Share(
            parse_id("delegation", &delegation)?,
            channel.unwrap_or_else(|| "plenary".into()),
        ),
        GovernanceBody::Note { text, channel } => {
            if text.trim().is_empty() {
                return Err(ApiError::bad_request("text must not be empty"));
            }
            Act::Content(
                channel.unwrap_or_else(|| "plenary".into()),
                Body::Note { text },
            )
        }
    };
    in_room(&api, neg, move |ws, me, room| {
        let events: Vec<_> = match act {
            Act::Post(body) => vec![ws.post(me, &room.negotiation, body)?.id],
            Act::Content(channel, body) => {
                vec![ws.post_content(me, &room.negotiation, &channel, body)?.id]
            }
            Act::Pen(delegation, granted) => {
                vec![crate::actions::pen(ws, me, room, &delegation, granted)?.0]
            }
            Act::Share(delegation, channel) => ws
                .share_history(me, &room.negotiation, &channel, &delegation)?
                .iter()
                .map(|e| e.id)
                .collect(),
        };
        Ok(Json(json!({"events": events})))
    })
    .await
}

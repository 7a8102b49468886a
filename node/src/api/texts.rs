//! Handlers for texts and decisions: revisions, views, comparisons, amendments, brackets,
//! positions, statements, marks, silence procedures, adoption and signatures. Each calls the
//! same action as the command line.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use entente_protocol::decisions::{Grounds, SignatureForm};
use entente_protocol::drafts::{MarkKind, Stance, StatementKind};
use entente_protocol::text::Document;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Api;
use super::error::{ApiError, ApiResult};
use super::handlers::{JsonBody, Params, in_room};
use crate::actions::{self, Amendment, Deadline, NewBracket};

fn word<T: std::str::FromStr<Err = entente_protocol::CborError>>(
    field: &str,
    s: &str,
) -> ApiResult<T> {
    s.parse::<T>()
        .map_err(|e| ApiError::bad_request(format!("{field}: {}", e.what)))
}

fn posted(id: entente_protocol::EventId) -> Json<Value> {
    Json(json!({"event": id}))
}

pub async fn revisions(State(api): State<Api>, Path(neg): Path<String>) -> ApiResult<Json<Value>> {
    in_room(&api, neg, |_, _, room| {
        Ok(Json(Value::Array(actions::revisions_json(room))))
    })
    .await
}

#[derive(Deserialize)]
pub struct CirculateBody {
    label: String,
    /// Language tag to the text in the plain-text convention.
    texts: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    supersedes: Option<String>,
}

pub async fn circulate(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<CirculateBody>,
) -> ApiResult<Json<Value>> {
    let mut documents = Vec::new();
    for (lang, text) in &b.texts {
        documents.push(
            Document::parse(lang, text)
                .map_err(|e| ApiError::bad_request(format!("the {lang} text: {e}")))?,
        );
    }
    in_room(&api, neg, move |ws, me, room| {
        let done = actions::circulate(ws, me, room, &b.label, b.supersedes.as_deref(), documents)?;
        Ok(Json(serde_json::to_value(done)?))
    })
    .await
}

#[derive(Deserialize)]
pub struct TextQuery {
    #[serde(default)]
    rev: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    clean: bool,
    /// json (default), md, html, akn or text
    #[serde(default)]
    format: Option<String>,
}

/// A revision in one language with brackets, options and statuses (or a clean text), as JSON,
/// Markdown, HTML, Akoma Ntoso or the plain-text convention.
pub async fn text(
    State(api): State<Api>,
    Path(neg): Path<String>,
    Params(q): Params<TextQuery>,
) -> ApiResult<Response> {
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if !["json", "md", "html", "akn", "text"].contains(&format.as_str()) {
        return Err(ApiError::bad_request(format!(
            "format {format:?}: expected json, md, html, akn or text"
        )));
    }
    in_room(&api, neg, move |_, _, room| {
        let r = room.revision(q.rev.as_deref())?;
        let view = room
            .draft
            .view(&room.state, &room.proceedings, &r.id, q.lang.as_deref())?;
        let names = crate::room::names(&room.state);
        let name =
            |d: &entente_protocol::DelegationId| names.get(d).cloned().unwrap_or_else(|| d.short());
        let (kind, body) = match format.as_str() {
            "md" => (
                "text/markdown; charset=utf-8",
                crate::views::markdown(&view, q.clean, &name),
            ),
            "html" => (
                "text/html; charset=utf-8",
                crate::views::html(&view, q.clean, &name),
            ),
            "akn" => (
                "application/akn+xml; charset=utf-8",
                crate::views::akoma_ntoso(
                    &view,
                    &room.state.charter.title,
                    &crate::render::utc(r.time)[..10],
                ),
            ),
            "text" => ("text/plain; charset=utf-8", view.document().render()),
            _ => {
                let mut v = crate::views::view_json(&view);
                v["rtl"] = json!(crate::views::is_rtl(&view.language));
                v["languages"] = json!(r.languages);
                return Ok(Json(v).into_response());
            }
        };
        Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

pub async fn diff(
    State(api): State<Api>,
    Path(neg): Path<String>,
    Params(q): Params<DiffQuery>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |_, _, room| {
        let from = room.revision(Some(&q.from))?;
        let to = room.revision(q.to.as_deref())?;
        let lang = q
            .lang
            .clone()
            .unwrap_or_else(|| from.source().language.clone());
        let doc = |r: &entente_protocol::drafting::RevisionRecord| {
            r.version(&lang)
                .map(|v| v.document.clone())
                .ok_or_else(|| anyhow::anyhow!("{} has no {lang} version", r.label))
        };
        let d = crate::views::word_diff(&doc(from)?, &doc(to)?);
        Ok(Json(
            json!({"from": from.label, "to": to.label, "language": lang,
                        "rtl": crate::views::is_rtl(&lang), "diff": d}),
        ))
    })
    .await
}

#[derive(Deserialize)]
pub struct AmendBody {
    paragraph: String,
    /// replace, insert-after or delete
    op: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    new_id: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    rev: Option<String>,
}

pub async fn amend(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<AmendBody>,
) -> ApiResult<Json<Value>> {
    let amendment = match b.op.as_str() {
        "replace" => Amendment::Replace(b.text.clone()),
        "insert-after" => Amendment::InsertAfter {
            new_id: b.new_id.clone(),
            text: b.text.clone(),
        },
        "delete" => Amendment::Delete,
        other => {
            return Err(ApiError::bad_request(format!(
                "op {other:?}: expected replace, insert-after or delete"
            )));
        }
    };
    in_room(&api, neg, move |ws, me, room| {
        let id = actions::amend(
            ws,
            me,
            room,
            b.rev.as_deref(),
            &b.paragraph,
            amendment,
            &b.justification,
        )?;
        Ok(Json(json!({"event": id, "amendment": id})))
    })
    .await
}

#[derive(Deserialize)]
pub struct BracketBody {
    paragraph: String,
    #[serde(default)]
    span: String,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rev: Option<String>,
}

pub async fn bracket(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<BracketBody>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |ws, me, room| {
        let nb = NewBracket {
            rev: b.rev.as_deref(),
            paragraph: &b.paragraph,
            span: &b.span,
            options: b.options.clone(),
            reason: &b.reason,
        };
        Ok(posted(actions::bracket(ws, me, room, nb)?))
    })
    .await
}

#[derive(Deserialize)]
pub struct TextBody {
    text: String,
}

pub async fn bracket_option(
    State(api): State<Api>,
    Path((neg, bracket)): Path<(String, String)>,
    JsonBody(b): JsonBody<TextBody>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |ws, me, room| {
        Ok(posted(actions::bracket_option(
            ws, me, room, &bracket, &b.text,
        )?))
    })
    .await
}

#[derive(Deserialize)]
pub struct ChoiceBody {
    choice: String,
}

pub async fn bracket_resolve(
    State(api): State<Api>,
    Path((neg, bracket)): Path<(String, String)>,
    JsonBody(b): JsonBody<ChoiceBody>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |ws, me, room| {
        Ok(posted(actions::bracket_resolve(
            ws, me, room, &bracket, &b.choice,
        )?))
    })
    .await
}

#[derive(Deserialize)]
pub struct RevQuery {
    #[serde(default)]
    rev: Option<String>,
}

pub async fn positions(
    State(api): State<Api>,
    Path(neg): Path<String>,
    Params(q): Params<RevQuery>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |_, _, room| {
        Ok(Json(Value::Array(actions::positions_json(
            room,
            q.rev.as_deref(),
        )?)))
    })
    .await
}

#[derive(Deserialize)]
pub struct PositionBody {
    /// An amendment id, or a paragraph id such as OP3.
    target: String,
    stance: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    rev: Option<String>,
}

pub async fn position(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<PositionBody>,
) -> ApiResult<Json<Value>> {
    let stance: Stance = word("stance", &b.stance)?;
    in_room(&api, neg, move |ws, me, room| {
        Ok(posted(actions::position(
            ws,
            me,
            room,
            &b.target,
            b.rev.as_deref(),
            stance,
            &b.note,
        )?))
    })
    .await
}

#[derive(Deserialize)]
pub struct StatementBody {
    text: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    paragraph: String,
}

pub async fn statement(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<StatementBody>,
) -> ApiResult<Json<Value>> {
    let kind: StatementKind = word("kind", b.kind.as_deref().unwrap_or("general"))?;
    in_room(&api, neg, move |ws, me, room| {
        Ok(posted(actions::statement(
            ws,
            me,
            room,
            kind,
            b.on.as_deref(),
            &b.paragraph,
            &b.text,
        )?))
    })
    .await
}

#[derive(Deserialize)]
pub struct MarkBody {
    paragraph: String,
    mark: String,
    #[serde(default)]
    rev: Option<String>,
}

pub async fn mark(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<MarkBody>,
) -> ApiResult<Json<Value>> {
    let mark: MarkKind = word("mark", &b.mark)?;
    in_room(&api, neg, move |ws, me, room| {
        Ok(posted(actions::mark(
            ws,
            me,
            room,
            b.rev.as_deref(),
            &b.paragraph,
            mark,
        )?))
    })
    .await
}

pub async fn silences(State(api): State<Api>, Path(neg): Path<String>) -> ApiResult<Json<Value>> {
    in_room(&api, neg, |_, _, room| {
        Ok(Json(Value::Array(
            room.proceedings
                .silences
                .iter()
                .map(|v| actions::silence_json(room, v))
                .collect(),
        )))
    })
    .await
}

#[derive(Deserialize)]
pub struct SilenceOpenBody {
    #[serde(default)]
    rev: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    deadline: Option<u64>,
    #[serde(default)]
    period_secs: Option<u64>,
}

pub async fn silence_open(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<SilenceOpenBody>,
) -> ApiResult<Json<Value>> {
    let deadline = match (b.deadline, b.period_secs) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give deadline or period_secs, not both",
            ));
        }
        (Some(t), None) => Deadline::At(t),
        (None, Some(s)) => Deadline::In(std::time::Duration::from_secs(s)),
        (None, None) => Deadline::CharterPeriod,
    };
    in_room(&api, neg, move |ws, me, room| {
        Ok(Json(serde_json::to_value(actions::silence_open(
            ws,
            me,
            room,
            b.rev.as_deref(),
            deadline,
        )?)?))
    })
    .await
}

#[derive(Deserialize)]
pub struct BreakBody {
    #[serde(default)]
    grounds: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn silence_break(
    State(api): State<Api>,
    Path((neg, silence)): Path<(String, String)>,
    JsonBody(b): JsonBody<BreakBody>,
) -> ApiResult<Json<Value>> {
    let grounds: Grounds = word("grounds", b.grounds.as_deref().unwrap_or("objection"))?;
    in_room(&api, neg, move |ws, me, room| {
        let done = actions::silence_break(
            ws,
            me,
            room,
            Some(&silence),
            grounds,
            b.reason.as_deref(),
            None,
        )?;
        Ok(Json(serde_json::to_value(done)?))
    })
    .await
}

pub async fn silence_close(
    State(api): State<Api>,
    Path((neg, silence)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |ws, me, room| {
        let (id, silence, outcome) = actions::silence_close(ws, me, room, Some(&silence))?;
        Ok(Json(
            json!({"event": id, "silence": silence, "outcome": outcome}),
        ))
    })
    .await
}

#[derive(Deserialize)]
pub struct ObjectBody {
    #[serde(default)]
    rev: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn object(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<ObjectBody>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |ws, me, room| {
        let (id, revision) = actions::object(ws, me, room, b.rev.as_deref(), b.reason.as_deref())?;
        Ok(Json(json!({"event": id, "revision": revision})))
    })
    .await
}

#[derive(Deserialize)]
pub struct AdoptBody {
    #[serde(default)]
    rev: Option<String>,
    #[serde(default)]
    silence: Option<String>,
    #[serde(default)]
    consensus: bool,
}

pub async fn adopt(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<AdoptBody>,
) -> ApiResult<Json<Value>> {
    in_room(&api, neg, move |ws, me, room| {
        let (id, revision, silence) = actions::adopt(
            ws,
            me,
            room,
            b.rev.as_deref(),
            b.silence.as_deref(),
            b.consensus,
        )?;
        Ok(Json(
            json!({"event": id, "adoption": id, "revision": revision, "silence": silence}),
        ))
    })
    .await
}

#[derive(Deserialize)]
pub struct SignBody {
    #[serde(default)]
    adoption: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    form: Option<String>,
}

pub async fn sign(
    State(api): State<Api>,
    Path(neg): Path<String>,
    JsonBody(b): JsonBody<SignBody>,
) -> ApiResult<Json<Value>> {
    let form: SignatureForm = word("form", b.form.as_deref().unwrap_or("signature"))?;
    in_room(&api, neg, move |ws, me, room| {
        let (adoption, signed) =
            actions::sign(ws, me, room, b.adoption.as_deref(), &b.languages, form)?;
        Ok(Json(
            json!({"adoption": adoption, "form": form, "signatures": signed}),
        ))
    })
    .await
}

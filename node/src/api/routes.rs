//! Every route of the local API in one table: the router and the OpenAPI document are both made
//! from it, so they cannot disagree.

use std::collections::BTreeMap;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};
use serde_json::{Value, json};

use super::{Api, auth, handlers as h, live, texts as t, ui};

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Reachable without the bearer token.
    pub public: bool,
    handler: MethodRouter<Api>,
}

fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    handler: MethodRouter<Api>,
) -> Route {
    Route {
        method,
        path,
        summary,
        public: false,
        handler,
    }
}

fn public(mut r: Route) -> Route {
    r.public = true;
    r
}

const NEG: &str = "/api/negotiations/{neg}";

/// The API's routes.
pub fn table() -> Vec<Route> {
    let _ = NEG;
    vec![
        public(route(
            "get",
            "/api/health",
            "Liveness and version",
            get(h::health),
        )),
        public(route(
            "post",
            "/api/login",
            "Trade a one-time login code for the bearer token",
            post(h::login),
        )),
        public(route(
            "get",
            "/api/openapi.json",
            "This document",
            get(openapi_handler),
        )),
        route(
            "get",
            "/api/me",
            "This delegation: name, ids, fingerprint, safety words, QR code",
            get(h::me),
        ),
        route(
            "get",
            "/api/events",
            "Server-sent events: one `event` message per stored event",
            get(live::events),
        ),
        route(
            "get",
            "/api/negotiations",
            "Negotiations in this node's store",
            get(h::negotiations),
        ),
        route(
            "post",
            "/api/negotiations",
            "Convene a negotiation (this delegation chairs it)",
            post(h::create),
        ),
        route(
            "post",
            "/api/join",
            "Join a negotiation with an invitation token (through the running node)",
            post(h::join),
        ),
        route(
            "get",
            "/api/negotiations/{neg}",
            "Charter, members (fingerprints, devices, verification), channels",
            get(h::negotiation),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/invite",
            "Accredit a delegation; returns an invitation token",
            post(h::invite),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/members/{delegation}/verified",
            "Mark a member verified in person (local only)",
            post(h::verify_member),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/governance",
            "Membership and channel changes: role, remove, leave, revoke, channel, pen, share-history, note (field `action`)",
            post(h::governance),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/messages",
            "Say something in a channel (sealed)",
            post(h::say),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/log",
            "Events with what the rules made of each, opened with this device's keys",
            get(h::log),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/revisions",
            "Revisions circulated so far",
            get(t::revisions),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/revisions",
            "Circulate a revision (chair or pen-holder)",
            post(t::circulate),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/text",
            "A revision with brackets and statuses: json, md, html, akn or text",
            get(t::text),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/diff",
            "Word-level comparison of two revisions",
            get(t::diff),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/amendments",
            "Propose an amendment",
            post(t::amend),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/brackets",
            "Place a bracket",
            post(t::bracket),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/brackets/{bracket}/options",
            "Add an option to a bracket",
            post(t::bracket_option),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/brackets/{bracket}/resolve",
            "Resolve a bracket (chair)",
            post(t::bracket_resolve),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/positions",
            "The positions matrix of a revision",
            get(t::positions),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/positions",
            "Take a position on an amendment or a paragraph",
            post(t::position),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/statements",
            "Attach a statement to the record",
            post(t::statement),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/marks",
            "Mark a paragraph",
            post(t::mark),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/silences",
            "Silence procedures: deadline, receipts, breaks, outcome",
            get(t::silences),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/silences",
            "Open a silence procedure (chair)",
            post(t::silence_open),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/silences/{silence}/break",
            "Break silence",
            post(t::silence_break),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/silences/{silence}/close",
            "Close a silence procedure (chair)",
            post(t::silence_close),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/objections",
            "Object to adopting a revision",
            post(t::object),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/adopt",
            "Declare a revision adopted (chair)",
            post(t::adopt),
        ),
        route(
            "post",
            "/api/negotiations/{neg}/sign",
            "Sign the adopted text in each language",
            post(t::sign),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/export/record",
            "The complete signed record",
            get(h::export_record),
        ),
        route(
            "get",
            "/api/negotiations/{neg}/export/public",
            "The public signed text of the adoption that stands",
            get(h::export_public),
        ),
    ]
}

async fn openapi_handler() -> axum::Json<Value> {
    axum::Json(openapi())
}

/// The router: the table's routes (token-checked unless public) and the UI's files.
pub fn router(api: Api) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<Api>> = BTreeMap::new();
    for r in table() {
        let handler = if r.public {
            r.handler
        } else {
            r.handler
                .route_layer(from_fn_with_state(api.clone(), auth::require_token))
        };
        let merged = match by_path.remove(r.path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(r.path, merged);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    ui::routes(router)
        .fallback(|| async {
            super::error::ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "no such route (see /api/openapi.json)",
            )
        })
        .layer(axum::middleware::from_fn(ui::security_headers))
        .with_state(api)
}

/// OpenAPI 3.1 description of the table.
pub fn openapi() -> Value {
    let mut paths = serde_json::Map::new();
    for r in table() {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": r.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "OK (JSON unless stated)"},
                "400": {"description": "Malformed request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "No or wrong bearer token"},
                "404": {"description": "No such negotiation or route"},
                "422": {"description": "Refused by the rules (the message says why)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if r.public {
            op["security"] = json!([]);
        }
        if r.method == "post" {
            op["requestBody"] =
                json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Entente local API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Served by `entente up` on loopback. Every route but the public ones needs `Authorization: Bearer <token>` (the token is in the home's api-token file; the web UI obtains it with a one-time login code)."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}, "required": ["error"]}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

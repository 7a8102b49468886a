//! Errors of the local API: a status and a JSON body `{"error": message}`, never a half-written
//! state (each request posts at most what the rules accept, after checking).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required: open the address `entente up` printed, or send `Authorization: Bearer <token>` (the token is in the home's api-token file)",
        )
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        // Storage and I/O failures are ours; everything else is a refusal of the request, with
        // the same words the command line uses.
        let internal = e.chain().any(|c| {
            c.is::<rusqlite::Error>()
                || c.is::<crate::store::StoreError>()
                || c.is::<std::io::Error>()
                || c.is::<tokio::task::JoinError>()
        });
        let message = format!("{e:#}");
        if internal {
            tracing::error!("API request failed: {message}");
            return Self::new(StatusCode::INTERNAL_SERVER_ERROR, message);
        }
        let status = if message.starts_with("no negotiation")
            || message.contains("is not a negotiation id")
        {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        Self::new(status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.message, "status": self.status.as_u16()})),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

//! Who may use the local API: whoever holds the bearer token kept in the home (mode 0600). A
//! browser gets it once, by trading a one-time login code from the address `entente up` prints.
//! No cookies are used, so another site cannot make the browser act on the API (no CSRF).

use std::path::PathBuf;

use anyhow::{Context, Result};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::Api;
use super::error::ApiError;
use crate::home::{Home, write_atomic, write_private_new};
use crate::workspace::now_ms;

/// How long a login code printed by `entente up` (or `entente web`) stays valid.
const LOGIN_TTL_MS: u64 = 15 * 60 * 1000;

pub fn token_path(home: &Home) -> PathBuf {
    home.root().join("api-token")
}

fn login_path(home: &Home) -> PathBuf {
    home.root().join("web-login.json")
}

fn random_hex(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(hex::encode(b))
}

/// The API token, created on first use.
pub fn load_or_create_token(home: &Home) -> Result<String> {
    let path = token_path(home);
    if !path.exists() {
        write_private_new(&path, random_hex(32)?.as_bytes())?;
    }
    let token = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let token = token.trim().to_string();
    anyhow::ensure!(
        token.len() >= 32,
        "{} is too short to be an API token; delete it to make a new one",
        path.display()
    );
    Ok(token)
}

#[derive(Serialize, Deserialize)]
struct Login {
    code: String,
    expires: u64,
}

/// Makes a fresh one-time login code (replacing any earlier one) and returns it.
pub fn issue_login(home: &Home) -> Result<String> {
    let code = random_hex(16)?;
    let login = Login {
        code: code.clone(),
        expires: now_ms() + LOGIN_TTL_MS,
    };
    let path = login_path(home);
    // The file holds a secret: private from the start, then replaced atomically.
    if !path.exists() {
        write_private_new(&path, b"{}")?;
    }
    write_atomic(&path, &serde_json::to_vec(&login)?)?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(code)
}

/// Trades a login code for the token, once.
pub fn redeem_login(home: &Home, code: &str) -> Result<bool> {
    let path = login_path(home);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(false);
    };
    let Ok(login) = serde_json::from_slice::<Login>(&bytes) else {
        return Ok(false);
    };
    if !constant_time_eq(login.code.as_bytes(), code.as_bytes()) || login.expires < now_ms() {
        return Ok(false);
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(true)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: the request carries `Authorization: Bearer <token>`.
pub async fn require_token(
    State(api): State<Api>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(t) if constant_time_eq(t.as_bytes(), api.token().as_bytes()) => {
            Ok(next.run(request).await)
        }
        _ => Err(ApiError::unauthorized()),
    }
}

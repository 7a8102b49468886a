//! `entente init` and `entente id`.

use crate::output::outln;
use anyhow::Result;
use entente_protocol::fingerprint;
use serde::Serialize;

use super::print_json;
use crate::cli::InitArgs;
use crate::home::Home;
use crate::identity::{Identity, PublicIdentity};
use crate::keystore;

#[derive(Serialize)]
struct IdView {
    name: String,
    delegation: String,
    device: String,
    peer_id: String,
    fingerprint: String,
    safety_words: Vec<String>,
    device_label: String,
    device_fingerprint: String,
    sealing_key: String,
    keys_encrypted: bool,
    home: String,
}

fn view(home: &Home, public: &PublicIdentity) -> Result<IdView> {
    let fp = fingerprint(public.delegation.as_bytes());
    let key_file = std::fs::read(home.identity_secret())?;
    Ok(IdView {
        name: public.name.clone(),
        delegation: public.delegation.to_hex(),
        device: public.device.to_hex(),
        peer_id: public.peer_id()?.to_string(),
        fingerprint: fp.short,
        safety_words: fp.words,
        device_label: public.certificate()?.certificate.label,
        device_fingerprint: fingerprint(public.device.as_bytes()).short,
        sealing_key: public.sealing_key.to_hex(),
        keys_encrypted: keystore::is_sealed(&key_file)?,
        home: home.root().display().to_string(),
    })
}

pub fn init(home: &Home, args: &InitArgs) -> Result<()> {
    let encrypt = args.encrypt || std::env::var_os(keystore::PASSPHRASE_ENV).is_some();
    let name = args.name.clone().unwrap_or_else(default_name);
    let public = Identity::create(home, &name, &args.device_label, encrypt)?;
    tracing::info!(delegation = %public.delegation, device = %public.device, "identity created");
    let v = view(home, &public)?;
    if args.json {
        return print_json(&v);
    }
    outln!("Created the identity of {:?} in {}", v.name, v.home);
    outln!("  delegation   {}", v.delegation);
    outln!("  fingerprint  {}", v.fingerprint);
    outln!(
        "  keys         {}",
        if v.keys_encrypted {
            "encrypted with a passphrase"
        } else {
            "not encrypted (use --encrypt to protect them)"
        }
    );
    outln!(
        "Give your delegation id to the chair so that it can accredit you; `entente id` shows it again."
    );
    Ok(())
}

fn default_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .map(|h| format!("Delegation at {h}"))
        .unwrap_or_else(|| "Unnamed delegation".to_string())
}

pub fn show(home: &Home, json: bool) -> Result<()> {
    let public = PublicIdentity::load(home)?;
    let v = view(home, &public)?;
    if json {
        return print_json(&v);
    }
    outln!("Delegation   {}", v.name);
    outln!("  id           {}", v.delegation);
    outln!("  fingerprint  {}", v.fingerprint);
    outln!("  safety words {}", v.safety_words.join(" "));
    outln!("Device       {}", v.device_label);
    outln!("  id           {}", v.device);
    outln!("  peer id      {}", v.peer_id);
    outln!("  fingerprint  {}", v.device_fingerprint);
    outln!(
        "Keys         {}",
        if v.keys_encrypted {
            "encrypted at rest"
        } else {
            "not encrypted"
        }
    );
    outln!();
    outln!(
        "Compare the fingerprint or safety words with the other delegation in person or by phone."
    );
    match qr(&format!(
        "entente:delegation={}&device={}",
        v.delegation, v.device
    )) {
        Some(code) => outln!("{code}"),
        None => tracing::warn!("the identity does not fit in a QR code"),
    }
    Ok(())
}

fn qr(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build(),
    )
}

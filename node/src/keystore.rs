//! Secret keys at rest: a 0600 file, optionally sealed with a passphrase (Argon2id + XChaCha20-Poly1305).

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// The environment variable that supplies the passphrase non-interactively.
pub const PASSPHRASE_ENV: &str = "ENTENTE_PASSPHRASE";
const SECRETS_LEN: usize = 96;
const AAD: &[u8] = b"entente/keystore/v1";

/// The three secret seeds of a device: delegation key, device key, sealing key.
pub struct Secrets(pub Zeroizing<[u8; SECRETS_LEN]>);

impl Secrets {
    pub fn new(delegation: &[u8; 32], device: &[u8; 32], sealing: &[u8; 32]) -> Self {
        let mut s = Zeroizing::new([0u8; SECRETS_LEN]);
        s[..32].copy_from_slice(delegation);
        s[32..64].copy_from_slice(device);
        s[64..].copy_from_slice(sealing);
        Self(s)
    }

    fn part(&self, i: usize) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0[i * 32..(i + 1) * 32]);
        out
    }

    pub fn delegation(&self) -> Zeroizing<[u8; 32]> {
        self.part(0)
    }
    pub fn device(&self) -> Zeroizing<[u8; 32]> {
        self.part(1)
    }
    pub fn sealing(&self) -> Zeroizing<[u8; 32]> {
        self.part(2)
    }
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    m_kib: u32,
    t: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "encryption")]
enum KeyFile {
    #[serde(rename = "none")]
    Plain { version: u32, secrets: String },
    #[serde(rename = "argon2id-xchacha20poly1305")]
    Sealed {
        version: u32,
        argon2: KdfParams,
        salt: String,
        nonce: String,
        ciphertext: String,
    },
}

// 64 MiB and 3 passes: about a quarter of a second on a laptop, costly for a guesser.
const KDF: KdfParams = KdfParams {
    m_kib: 64 * 1024,
    t: 3,
    p: 1,
};

fn derive_key(passphrase: &str, salt: &[u8], p: &KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(p.m_kib, p.t, p.p, Some(32))
        .map_err(|e| anyhow::anyhow!("invalid key-derivation parameters in key file: {e}"))?;
    let kdf = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    kdf.hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| anyhow::anyhow!("key derivation failed: {e}"))?;
    Ok(key)
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(b)
}

/// Serialises secrets, sealed when a passphrase is given.
pub fn seal(secrets: &Secrets, passphrase: Option<&str>) -> Result<Vec<u8>> {
    let file = match passphrase {
        None => KeyFile::Plain {
            version: 1,
            secrets: hex::encode(secrets.0.as_ref()),
        },
        Some(pass) => {
            let salt: [u8; 16] = random()?;
            let nonce: [u8; 24] = random()?;
            let key = derive_key(pass, &salt, &KDF)?;
            let cipher = XChaCha20Poly1305::new((&*key).into());
            let ciphertext = cipher
                .encrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: secrets.0.as_ref(),
                        aad: AAD,
                    },
                )
                .map_err(|_| anyhow::anyhow!("encrypting the key file failed"))?;
            KeyFile::Sealed {
                version: 1,
                argon2: KDF,
                salt: hex::encode(salt),
                nonce: hex::encode(nonce),
                ciphertext: hex::encode(ciphertext),
            }
        }
    };
    Ok(serde_json::to_vec_pretty(&file)?)
}

/// Whether a key file needs a passphrase.
pub fn is_sealed(bytes: &[u8]) -> Result<bool> {
    let file: KeyFile = serde_json::from_slice(bytes).context("the key file is corrupted")?;
    Ok(matches!(file, KeyFile::Sealed { .. }))
}

/// Reads secrets, asking for the passphrase (environment, then terminal) only if they are sealed.
pub fn open(bytes: &[u8]) -> Result<Secrets> {
    if !is_sealed(bytes)? {
        return open_with(bytes, None);
    }
    let pass = passphrase(false)?.context(format!(
        "the identity is protected by a passphrase: set {PASSPHRASE_ENV} or run in a terminal"
    ))?;
    open_with(bytes, Some(&pass))
}

/// Reads secrets with the given passphrase (ignored for an unsealed file).
pub fn open_with(bytes: &[u8], passphrase: Option<&str>) -> Result<Secrets> {
    let file: KeyFile = serde_json::from_slice(bytes).context("the key file is corrupted")?;
    let mut plain = match file {
        KeyFile::Plain { secrets, .. } => {
            Zeroizing::new(hex::decode(secrets).context("the key file is corrupted")?)
        }
        KeyFile::Sealed {
            argon2,
            salt,
            nonce,
            ciphertext,
            ..
        } => {
            let pass = passphrase.context("the identity is protected by a passphrase")?;
            let salt = hex::decode(salt).context("the key file is corrupted")?;
            let nonce: [u8; 24] = hex::decode(nonce)
                .ok()
                .and_then(|n| n.try_into().ok())
                .context("the key file is corrupted")?;
            let ciphertext = hex::decode(ciphertext).context("the key file is corrupted")?;
            let key = derive_key(pass, &salt, &argon2)?;
            let cipher = XChaCha20Poly1305::new((&*key).into());
            Zeroizing::new(
                cipher
                    .decrypt(
                        &XNonce::from(nonce),
                        Payload {
                            msg: &ciphertext,
                            aad: AAD,
                        },
                    )
                    .map_err(|_| anyhow::anyhow!("wrong passphrase (or a corrupted key file)"))?,
            )
        }
    };
    if plain.len() != SECRETS_LEN {
        plain.zeroize();
        bail!("the key file is corrupted (wrong secret length)");
    }
    let mut out = Zeroizing::new([0u8; SECRETS_LEN]);
    out.copy_from_slice(&plain);
    Ok(Secrets(out))
}

/// The passphrase from `ENTENTE_PASSPHRASE`, else from the terminal (asked twice when `confirm`).
/// `None` when neither is available.
pub fn passphrase(confirm: bool) -> Result<Option<Zeroizing<String>>> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        if p.is_empty() {
            bail!("{PASSPHRASE_ENV} is set but empty");
        }
        return Ok(Some(Zeroizing::new(p)));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let p = Zeroizing::new(
        rpassword::prompt_password("Passphrase: ").context("cannot read the passphrase")?,
    );
    if p.is_empty() {
        bail!("the passphrase must not be empty");
    }
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Repeat passphrase: ")
                .context("cannot read the passphrase")?,
        );
        if *again != *p {
            bail!("the passphrases do not match");
        }
    }
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets::new(&[1; 32], &[2; 32], &[3; 32])
    }

    #[test]
    fn unsealed_key_files_round_trip() {
        let file = seal(&secrets(), None).expect("seals");
        assert!(!is_sealed(&file).expect("parses"));
        let back = open_with(&file, None).expect("opens");
        assert_eq!(*back.device(), [2; 32]);
    }

    #[test]
    fn sealed_key_files_open_only_with_the_passphrase() {
        let file = seal(&secrets(), Some("correct horse")).expect("seals");
        assert!(is_sealed(&file).expect("parses"));
        let text = String::from_utf8(file.clone()).expect("json");
        assert!(
            !text.contains(&hex::encode([2u8; 32])),
            "secret visible in sealed file"
        );
        assert_eq!(
            *open_with(&file, Some("correct horse"))
                .expect("opens")
                .sealing(),
            [3; 32]
        );
        let wrong = open_with(&file, Some("battery staple"))
            .err()
            .expect("wrong passphrase fails");
        assert!(wrong.to_string().contains("wrong passphrase"));
        assert!(open_with(&file, None).is_err());
    }

    #[test]
    fn a_tampered_sealed_file_is_refused() {
        let file = seal(&secrets(), Some("pw")).expect("seals");
        let mut v: serde_json::Value = serde_json::from_slice(&file).expect("json");
        let ct = v["ciphertext"].as_str().expect("ciphertext").to_string();
        let flipped = format!(
            "{}{}",
            if ct.starts_with('0') { "1" } else { "0" },
            &ct[1..]
        );
        v["ciphertext"] = serde_json::Value::String(flipped);
        let bytes = serde_json::to_vec(&v).expect("json");
        assert!(open_with(&bytes, Some("pw")).is_err());
    }
}

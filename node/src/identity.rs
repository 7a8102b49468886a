//! This node's identity: its delegation, its device and the certificate that binds them.

use anyhow::{Context, Result, bail};
use entente_protocol::identity::{delegation_id, device_id};
use entente_protocol::{
    DelegationId, DeviceCertificate, DeviceId, SealingKey, SignedCertificate, SigningKey,
};
use serde::{Deserialize, Serialize};

use crate::home::{Home, write_private_new};
use crate::keystore::{self, Secrets};

/// What anyone may know about this node; readable without the passphrase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicIdentity {
    pub version: u32,
    pub name: String,
    pub delegation: DelegationId,
    pub device: DeviceId,
    pub sealing_key: SealingKey,
    /// The device certificate, hex of its signed encoding.
    pub certificate: String,
}

impl PublicIdentity {
    pub fn load(home: &Home) -> Result<Self> {
        home.require_initialised()?;
        let path = home.identity_public();
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is corrupted", path.display()))
    }

    pub fn certificate(&self) -> Result<SignedCertificate> {
        let bytes =
            hex::decode(&self.certificate).context("identity.json: certificate is not hex")?;
        SignedCertificate::from_bytes(&bytes)
            .context("identity.json: the device certificate is invalid")
    }

    /// The libp2p PeerId of this device (its Ed25519 device key).
    pub fn peer_id(&self) -> Result<libp2p_identity::PeerId> {
        let key = libp2p_identity::ed25519::PublicKey::try_from_bytes(self.device.as_bytes())
            .context("identity.json: the device key is invalid")?;
        Ok(libp2p_identity::PublicKey::from(key).to_peer_id())
    }
}

/// The identity with its secret keys, for signing.
pub struct Identity {
    pub public: PublicIdentity,
    pub device_key: SigningKey,
    pub certificate: SignedCertificate,
    /// The X25519 secret that opens epoch-key envelopes addressed to this device.
    pub sealing_secret: zeroize::Zeroizing<[u8; 32]>,
}

impl Identity {
    /// Creates keys and a certificate in `home`; refuses to replace an existing identity.
    pub fn create(
        home: &Home,
        name: &str,
        device_label: &str,
        encrypt: bool,
    ) -> Result<PublicIdentity> {
        if home.identity_secret().exists() && !home.identity_public().exists() {
            bail!(
                "{} holds a key file without identity.json (an interrupted init?): move identity.key \
                 away, or restore identity.json from a backup",
                home.root().display()
            );
        }
        if home.identity_public().exists() || home.identity_secret().exists() {
            bail!(
                "{} already holds an identity; refusing to overwrite it (use another --home)",
                home.root().display()
            );
        }
        if name.trim().is_empty() {
            bail!("the delegation name must not be empty");
        }
        let passphrase = if encrypt {
            Some(keystore::passphrase(true)?.with_context(|| {
                format!(
                    "--encrypt needs a passphrase: set {} or run in a terminal",
                    keystore::PASSPHRASE_ENV
                )
            })?)
        } else {
            None
        };
        let mut seeds = [[0u8; 32]; 3];
        for s in &mut seeds {
            getrandom::fill(s).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
        }
        let secrets = Secrets::new(&seeds[0], &seeds[1], &seeds[2]);
        zeroize::Zeroize::zeroize(&mut seeds);
        let (public, _) = Self::derive(name, device_label, &secrets)?;

        home.create()?;
        let sealed = keystore::seal(&secrets, passphrase.as_ref().map(|p| p.as_str()))?;
        write_private_new(&home.identity_secret(), &sealed)?;
        write_private_new(
            &home.identity_public(),
            &serde_json::to_vec_pretty(&public)?,
        )?;
        Ok(public)
    }

    fn derive(name: &str, label: &str, secrets: &Secrets) -> Result<(PublicIdentity, Self)> {
        let delegation_key = SigningKey::from_bytes(&secrets.delegation());
        let device_key = SigningKey::from_bytes(&secrets.device());
        let sealing = x25519_dalek::StaticSecret::from(*secrets.sealing());
        let sealing_key = SealingKey(x25519_dalek::PublicKey::from(&sealing).to_bytes());
        let certificate = SignedCertificate::issue(
            &delegation_key,
            DeviceCertificate {
                delegation: delegation_id(&delegation_key),
                device: device_id(&device_key),
                sealing_key,
                label: label.to_string(),
                not_after: None,
            },
        );
        let public = PublicIdentity {
            version: 1,
            name: name.to_string(),
            delegation: delegation_id(&delegation_key),
            device: device_id(&device_key),
            sealing_key,
            certificate: hex::encode(certificate.to_bytes()),
        };
        Ok((
            public.clone(),
            Self {
                public,
                device_key,
                certificate,
                sealing_secret: secrets.sealing(),
            },
        ))
    }

    /// The device key as a libp2p identity (the node's PeerId).
    pub fn libp2p_keypair(&self) -> Result<libp2p::identity::Keypair> {
        let mut secret = self.device_key.to_bytes();
        let kp = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret)
            .context("invalid device key");
        zeroize::Zeroize::zeroize(&mut secret);
        kp
    }

    /// Network credentials of this device.
    pub fn credentials(&self) -> Result<crate::net::Credentials> {
        Ok(crate::net::Credentials::Member {
            keypair: self.libp2p_keypair()?,
            certificate: Box::new(self.certificate.clone()),
        })
    }

    /// Loads the identity with its secrets (asks for the passphrase if the keys are sealed).
    pub fn load(home: &Home) -> Result<Self> {
        let public = PublicIdentity::load(home)?;
        let path = home.identity_secret();
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let secrets = keystore::open(&bytes)?;
        let certificate = public.certificate()?;
        let (_, me) = Self::derive(&public.name, &certificate.certificate.label, &secrets)?;
        if me.public.delegation != public.delegation || me.public.device != public.device {
            bail!(
                "{} does not match {}: the home directory is inconsistent",
                path.display(),
                home.identity_public().display()
            );
        }
        Ok(Self {
            public,
            certificate,
            ..me
        })
    }
}

//! `Invitation::from_token`: any string gives an invitation or a typed error; an accepted token
//! is the one its invitation writes.
#![no_main]

use entente_protocol::sync::Invitation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    if let Ok(invitation) = Invitation::from_token(&token) {
        assert_eq!(
            invitation.to_token(),
            token.trim(),
            "an accepted token is not the one its invitation writes"
        );
        assert_eq!(
            Invitation::from_token(&invitation.to_token()),
            Ok(invitation)
        );
        // The same check on the bytes under the base58.
        if let Some(body) = token.trim().strip_prefix("ent1")
            && let Ok(bytes) = bs58::decode(body).into_vec()
        {
            entente_fuzz::assert_only_shortest_form("invitation", &bytes, |b| {
                let t = format!("ent1{}", bs58::encode(b).into_string());
                Invitation::from_token(&t).is_ok()
            });
        }
    }
});

//! `Document::parse` (the plain-text convention): typed errors only; a parsed document renders
//! back to text that parses to the same document (`text.rs`: "`parse(render(d)) == d` for every
//! valid document"), and its CBOR encoding decodes to it.
#![no_main]

use entente_protocol::drafts::{Version, decode_versions, encode_versions};
use entente_protocol::text::Document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = Document::parse("en", source) else {
        return;
    };
    let rendered = doc.render();
    assert_eq!(
        Document::parse("en", &rendered).as_ref(),
        Ok(&doc),
        "the rendered text {rendered:?} parses to another document"
    );
    if doc.paragraphs.len() > entente_protocol::text::MAX_PARAGRAPHS {
        return;
    }
    let version = vec![Version {
        sources: vec![None; doc.paragraphs.len()],
        document: doc,
    }];
    let bytes = encode_versions(&version);
    assert_eq!(
        decode_versions(&bytes).as_ref(),
        Ok(&version),
        "a parsed document does not decode back"
    );
});

//! The view as JSON, for scripts and the local API.

use entente_protocol::drafting::TextView;
use serde_json::Value;

/// The view as `TextView` serialises it: ids and hashes in hex, statuses in kebab-case.
pub fn view_json(view: &TextView) -> Value {
    // A TextView holds only strings, numbers, enums and hex ids: serialising cannot fail.
    serde_json::to_value(view).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixtures::resolution;

    #[test]
    fn the_json_view_keeps_ids_statuses_and_the_hash_in_hex() {
        let v = view_json(&resolution("ar"));
        assert_eq!(v["language"], "ar");
        assert_eq!(v["hash"], hex::encode([7u8; 32]));
        assert_eq!(v["paragraphs"][2]["id"], "OP1.a");
        assert_eq!(v["paragraphs"][2]["status"], "unread");
        assert_eq!(v["paragraphs"][0]["part"], "preamble");
    }
}

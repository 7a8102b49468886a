//! How a negotiated text is shown: Markdown and HTML for people (with the room's statuses and
//! brackets, or clean for printing), Akoma Ntoso XML for parliaments' and secretariats' tools,
//! JSON for scripts, and word-level differences between two revisions.
//!
//! Every function here is pure: it takes a view or documents built by `entente-protocol` and
//! returns text. Nothing reads the store or the network.

mod akn;
mod diff;
mod diff_render;
mod escape;
mod html;
mod json;
mod lang;
mod layout;
mod markdown;
mod notes;

#[cfg(test)]
mod fixtures;

pub use akn::{akn_eid, akoma_ntoso};
pub use diff::{Change, DocumentDiff, ParagraphDiff, WordChange, word_diff};
pub use diff_render::{diff_html, diff_markdown};
pub use html::html;
pub use json::view_json;
pub use lang::is_rtl;
pub use markdown::markdown;

use entente_protocol::drafting::{ParagraphStatus, TextView};
use entente_protocol::proceedings::AdoptionStatus;

/// A status as one word (`agreed-ad-referendum`), for attributes and classes.
fn status_slug(status: ParagraphStatus) -> String {
    status.as_str().replace(' ', "-")
}

/// The line under the title: symbol, label, language and, if it was taken, the adoption.
fn byline(view: &TextView) -> String {
    let adoption = view.adopted.map(|a| match a {
        AdoptionStatus::Adopted => "adopted",
        AdoptionStatus::Contested => "adoption contested",
        AdoptionStatus::Void => "adoption void",
    });
    [
        view.symbol.as_str(),
        view.label.as_str(),
        view.language.as_str(),
    ]
    .into_iter()
    .chain(adoption)
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" · ")
}

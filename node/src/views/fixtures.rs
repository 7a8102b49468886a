//! Views built by hand for the tests: every field of a `TextView` is public, so a test states
//! exactly the paragraph, status and brackets it is about without running the fold.

use entente_protocol::drafting::{BracketView, ParagraphStatus, ParagraphView, TextView};
use entente_protocol::text::Paragraph;
use entente_protocol::{DelegationId, EventId};

pub fn event(n: u8) -> EventId {
    EventId([n; 32])
}

pub fn delegation(n: u8) -> DelegationId {
    DelegationId([n; 32])
}

/// Delegation names as a node would know them.
pub fn names(d: &DelegationId) -> String {
    match d.0[0] {
        1 => "France".into(),
        2 => "Kenya".into(),
        _ => d.short(),
    }
}

pub fn paragraph(id: &str, text: &str) -> ParagraphView {
    let p = Paragraph {
        id: id.into(),
        text: text.into(),
    };
    ParagraphView {
        id: p.id.clone(),
        part: p.part(),
        level: p.level(),
        text: p.text,
        status: ParagraphStatus::Unread,
        pending_ad_referendum: Vec::new(),
        brackets: Vec::new(),
        proposals: Vec::new(),
        stale_translation: false,
    }
}

pub fn bracket(n: u8, span: &str, options: &[&str], reason: &str) -> BracketView {
    BracketView {
        id: event(n),
        span: span.into(),
        options: options.iter().map(|o| o.to_string()).collect(),
        reason: reason.into(),
        placed_by: None,
        amendments: Vec::new(),
    }
}

pub fn view(language: &str, title: &str, paragraphs: Vec<ParagraphView>) -> TextView {
    TextView {
        revision: event(9),
        label: "Rev.1".into(),
        language: language.into(),
        symbol: "A/CONF.1/L.3/Rev.1".into(),
        title: title.into(),
        hash: [7; 32],
        adopted: None,
        paragraphs,
    }
}

/// The same small resolution in English, French and Arabic, with sub-paragraphs and an
/// alternative paragraph so that every shape of id is there.
pub fn resolution(language: &str) -> TextView {
    let (title, texts): (&str, [&str; 5]) = match language {
        "fr" => (
            "Projet de résolution sur la gouvernance des océans",
            [
                "Rappelant sa résolution 70/1,",
                "Décide de convoquer une conférence à Genève ;",
                "en 2027 ;",
                "Prie le Secrétaire général de présenter un rapport élaboré avec l'État hôte ;",
                "Décide de rester saisie de la question.",
            ],
        ),
        "ar" => (
            "مشروع قرار بشأن حوكمة المحيطات",
            [
                "إذ تشير إلى قرارها ٧٠/١،",
                "تقرر عقد مؤتمر في جنيف؛",
                "في عام ٢٠٢٧؛",
                "تطلب إلى الأمين العام أن يقدم تقريرا يُعَدّ بالتعاون مع الدولة المضيفة؛",
                "تقرر أن تبقي المسألة قيد نظرها.",
            ],
        ),
        _ => (
            "Draft resolution on ocean governance",
            [
                "Recalling its resolution 70/1,",
                "Decides to convene a conference in Geneva;",
                "in 2027;",
                "Requests the Secretary-General to submit a report prepared with the host State;",
                "Decides to remain seized of the matter.",
            ],
        ),
    };
    let ids = ["PP1", "OP1", "OP1.a", "OP2", "OP2-alt"];
    view(
        language,
        title,
        ids.iter()
            .zip(texts)
            .map(|(id, text)| paragraph(id, text))
            .collect(),
    )
}

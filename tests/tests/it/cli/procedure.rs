//! The negotiation procedure end to end on the real network: a mediator relay, a chair and three
//! delegations, texts in English, French and Arabic, from the zero draft to signatures, with the
//! record and the public signed text verified by an outsider.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use entente_tests::daemon::wait_until;
use entente_tests::{Conference, Node, Outsider, circulate, str_field};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

const ZERO_EN: &str = "symbol: A/CONF.1/L.3
title: Joint statement on the Rhine

[PP1] Recalling the Convention on the Protection of the Rhine,

[PP2] Noting with concern the decline of salmon stocks,

[OP1] Decides to reduce nitrate discharges by 2030;

[OP2] Requests the secretariat to report annually;

[OP3] Invites observers to contribute data.
";

const ZERO_FR: &str = "symbol: A/CONF.1/L.3
title: Déclaration commune sur le Rhin

[PP1] Rappelant la Convention pour la protection du Rhin,

[PP2] Notant avec préoccupation le déclin des stocks de saumon,

[OP1] Décide de réduire les rejets de nitrates d’ici à 2030 ;

[OP2] Prie le secrétariat de faire rapport chaque année ;

[OP3] Invite les observateurs à communiquer des données.
";

const ZERO_AR: &str = "symbol: A/CONF.1/L.3
title: بيان مشترك بشأن نهر الراين

[PP1] إذ تشير إلى اتفاقية حماية نهر الراين،

[PP2] وإذ تلاحظ بقلق تراجع أرصدة سمك السلمون،

[OP1] تقرر خفض تصريف النترات بحلول عام ٢٠٣٠؛

[OP2] تطلب إلى الأمانة أن تقدم تقريرًا سنويًا؛

[OP3] تدعو المراقبين إلى تقديم البيانات.
";

/// The texts of a revision: the zero draft with some paragraphs replaced, per language.
fn revised(base: &str, changes: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for line in base.lines() {
        let replaced = changes
            .iter()
            .find(|(id, _)| line.starts_with(&format!("[{id}] ")))
            .map(|(id, text)| format!("[{id}] {text}"));
        out.push_str(&replaced.unwrap_or_else(|| line.to_string()));
        out.push('\n');
    }
    out
}

fn revisions(node: &Node, neg: &str) -> Vec<Value> {
    match node.json(["draft", "list", neg]) {
        Value::Array(rows) => rows,
        other => panic!("draft list --json is not an array: {other}"),
    }
}

fn has_revision(node: &Node, neg: &str, label: &str) -> bool {
    revisions(node, neg).iter().any(|r| r["label"] == label)
}

fn view(node: &Node, neg: &str, lang: &str) -> Value {
    node.json(["draft", "show", neg, "--lang", lang])
}

fn paragraph<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["paragraphs"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("no paragraph {id} in {view}"))
}

fn silences(node: &Node, neg: &str) -> Vec<Value> {
    match node.json(["silence", "status", neg]) {
        Value::Array(rows) => rows,
        other => panic!("silence status --json is not an array: {other}"),
    }
}

#[test]
fn chair_and_three_delegations_walk_from_zero_draft_to_signed_text() {
    let conference = Conference::convene(
        "Joint statement on the Rhine",
        &["France", "Egypt", "Brazil"],
    );
    let (chair, neg) = (&conference.chair, conference.negotiation.clone());
    let delegations = &conference.delegations;
    let (france, egypt, brazil) = (&delegations[0], &delegations[1], &delegations[2]);
    let everyone = [chair, france, egypt, brazil];

    // Zero draft in three languages.
    let zero = circulate(
        chair,
        &neg,
        "zero draft",
        &[("en", ZERO_EN), ("fr", ZERO_FR), ("ar", ZERO_AR)],
    );
    let zero_id = str_field(&zero, "revision");
    wait_until(LIMIT, "every delegation holds the zero draft", || {
        delegations
            .iter()
            .all(|d| has_revision(d, &neg, "zero draft"))
    });

    // Amendments: France and Egypt both rewrite OP1 (a conflict), Brazil inserts after OP2.
    let amend = |node: &Node, args: &[&str]| {
        let mut a = vec!["amend", neg.as_str()];
        a.extend_from_slice(args);
        str_field(&node.json(&a), "amendment")
    };
    let fr_op1 = "Decides to halve nitrate discharges by 2030;";
    let eg_op1 =
        "Decides to reduce nitrate discharges, taking into account national circumstances;";
    let a_france = amend(
        france,
        &["OP1", "--replace", fr_op1, "--justification", "ambition"],
    );
    let a_egypt = amend(egypt, &["OP1", "--replace", eg_op1]);
    let a_brazil = amend(
        brazil,
        &[
            "OP2",
            "--insert-after",
            "OP2-bis",
            "Encourages regional cooperation;",
        ],
    );
    // Positions on France's amendment (once it has reached them) and on a paragraph.
    wait_until(LIMIT, "Brazil and Egypt hold France's amendment", || {
        [brazil, egypt]
            .iter()
            .all(|n| n.log(&neg).iter().any(|e| e["id"] == a_france.as_str()))
    });
    brazil.json(["position", &neg, &a_france[..16], "support"]);
    egypt.json([
        "position",
        &neg,
        &a_france[..16],
        "object",
        "--note",
        "too ambitious",
    ]);
    france.json(["position", &neg, "OP3", "reserve"]);

    wait_until(LIMIT, "the chair sees the amendments and positions", || {
        let v = view(chair, &neg, "en");
        let positions = chair.json(["draft", "positions", &neg]);
        paragraph(&v, "OP1")["brackets"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
            && paragraph(&v, "OP2")["proposals"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
            && positions.as_array().is_some_and(|p| p.len() == 3)
    });
    let v = view(chair, &neg, "en");
    let op1 = paragraph(&v, "OP1");
    assert_eq!(op1["status"], "bracketed", "{op1}");
    let bracket = &op1["brackets"][0];
    let options: Vec<&str> = bracket["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The circulated text first, then each proposal in fold order (which concurrent
    // amendments' ids decide): never merged.
    assert_eq!(options.len(), 3, "{options:?}");
    assert_eq!(options[0], "Decides to reduce nitrate discharges by 2030;");
    assert!(
        options.contains(&fr_op1) && options.contains(&eg_op1),
        "conflicting amendments are shown as bracketed options, never merged: {options:?}"
    );
    let named: Vec<&str> = bracket["amendments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        named.contains(&a_france.as_str()) && named.contains(&a_egypt.as_str()),
        "{bracket}"
    );
    assert!(
        paragraph(&v, "OP2")["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == &Value::String(a_brazil.clone()))
    );
    let matrix = chair.json(["draft", "positions", &neg]);
    let stance = |who: &str, on: &str| {
        matrix
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == who && r["on"].as_str().is_some_and(|o| o.contains(on)))
            .map(|r| r["stance"].clone())
    };
    assert_eq!(
        stance("Brazil", &a_france[..16]),
        Some("support".into()),
        "{matrix}"
    );
    assert_eq!(
        stance("Egypt", &a_france[..16]),
        Some("object".into()),
        "{matrix}"
    );
    assert_eq!(stance("France", "OP3"), Some("reserve".into()), "{matrix}");

    // Rev.1: the chair's consolidation.
    let rev1_en = revised(
        ZERO_EN,
        &[(
            "OP1",
            "Decides to reduce nitrate discharges substantially by 2030;",
        )],
    );
    let rev1_fr = revised(
        ZERO_FR,
        &[(
            "OP1",
            "Décide de réduire sensiblement les rejets de nitrates d’ici à 2030 ;",
        )],
    );
    let rev1_ar = revised(
        ZERO_AR,
        &[("OP1", "تقرر خفض تصريف النترات بشكل كبير بحلول عام ٢٠٣٠؛")],
    );
    circulate(
        chair,
        &neg,
        "Rev.1",
        &[("en", &rev1_en), ("fr", &rev1_fr), ("ar", &rev1_ar)],
    );
    wait_until(LIMIT, "every delegation holds Rev.1", || {
        delegations.iter().all(|d| has_revision(d, &neg, "Rev.1"))
    });
    let diff = chair.json(["draft", "diff", &neg, "zero draft", "Rev.1", "--lang", "fr"]);
    assert!(
        diff.to_string().contains("sensiblement"),
        "the French comparison shows the new word: {diff}"
    );

    // OP2 agreed ad referendum by Egypt, then confirmed by its capital.
    chair.json(["mark", &neg, "OP2", "agreed"]);
    egypt.json(["mark", &neg, "OP2", "ad-referendum"]);
    wait_until(LIMIT, "the chair sees OP2 agreed ad referendum", || {
        paragraph(&view(chair, &neg, "en"), "OP2")["status"] == "agreed-ad-referendum"
    });
    egypt.json(["mark", &neg, "OP2", "confirmed"]);
    wait_until(LIMIT, "the chair sees OP2 agreed", || {
        paragraph(&view(chair, &neg, "en"), "OP2")["status"] == "agreed"
    });

    // Silence procedure on Rev.1, broken by Egypt.
    let s1 = str_field(
        &chair.json(["silence", "open", &neg, "--period", "10m"]),
        "silence",
    );
    wait_until(LIMIT, "every node confirms receipt of Rev.1", || {
        silences(chair, &neg).iter().any(|s| {
            s["silence"] == s1.as_str()
                && s["not_received_by"].as_array().is_some_and(Vec::is_empty)
        })
    });
    wait_until(LIMIT, "Egypt holds the silence procedure", || {
        !silences(egypt, &neg).is_empty()
    });
    egypt.json([
        "silence",
        "break",
        &neg,
        "--reason",
        "Capital cannot accept OP1 as drafted",
    ]);
    wait_until(LIMIT, "the chair sees the break", || {
        silences(chair, &neg)
            .iter()
            .any(|s| s["silence"] == s1.as_str() && s["outcome"] == "broken")
    });
    let closed = chair.json(["silence", "close", &neg, "--silence", &s1[..16]]);
    assert_eq!(closed["outcome"], "broken", "{closed}");

    // Rev.2, then a silence procedure that passes.
    let rev2_en = revised(
        &rev1_en,
        &[(
            "OP1",
            "Decides to reduce nitrate discharges substantially by 2030, taking into account national circumstances;",
        )],
    );
    let rev2_fr = revised(
        &rev1_fr,
        &[(
            "OP1",
            "Décide de réduire sensiblement les rejets de nitrates d’ici à 2030, compte tenu des situations nationales ;",
        )],
    );
    let rev2_ar = revised(
        &rev1_ar,
        &[(
            "OP1",
            "تقرر خفض تصريف النترات بشكل كبير بحلول عام ٢٠٣٠، مع مراعاة الظروف الوطنية؛",
        )],
    );
    let rev2 = circulate(
        chair,
        &neg,
        "Rev.2",
        &[("en", &rev2_en), ("fr", &rev2_fr), ("ar", &rev2_ar)],
    );
    let rev2_id = str_field(&rev2, "revision");
    wait_until(LIMIT, "every delegation holds Rev.2", || {
        delegations.iter().all(|d| has_revision(d, &neg, "Rev.2"))
    });
    let s2 = str_field(
        &chair.json(["silence", "open", &neg, "--period", "4s"]),
        "silence",
    );
    wait_until(LIMIT, "every node confirms receipt of Rev.2", || {
        silences(chair, &neg).iter().any(|s| {
            s["silence"] == s2.as_str()
                && s["not_received_by"].as_array().is_some_and(Vec::is_empty)
        })
    });
    wait_until(LIMIT, "the deadline passes", || {
        silences(chair, &neg)
            .iter()
            .any(|s| s["silence"] == s2.as_str() && s["remaining_ms"] == 0)
    });
    let closed = chair.json(["silence", "close", &neg, "--silence", &s2[..16]]);
    assert_eq!(closed["outcome"], "passed", "{closed}");

    // Adoption on the silence procedure, then every delegation signs every language.
    let adoption = str_field(&chair.json(["adopt", &neg]), "adoption");
    for node in &everyone[1..] {
        wait_until(LIMIT, "the delegation holds the adoption", || {
            revisions(node, &neg)
                .iter()
                .any(|r| r["adoption"]["event"] == adoption.as_str())
        });
    }
    for node in everyone {
        let signed = node.json(["sign", &neg]);
        assert_eq!(
            signed["signatures"].as_array().map(Vec::len),
            Some(3),
            "{signed}"
        );
    }
    let hashes: BTreeMap<String, String> = serde_json::from_value(
        revisions(chair, &neg)
            .iter()
            .find(|r| r["revision"] == rev2_id.as_str())
            .unwrap()["hashes"]
            .clone(),
    )
    .unwrap();
    assert_eq!(hashes.len(), 3);

    // The record, verified by an outsider: every signature over the same hash per language.
    wait_until(LIMIT, "the chair holds all twelve signatures", || {
        let v = Outsider::new()
            .verify_json(&chair.export(&neg, "record.ent"))
            .1;
        v["authentication"].as_array().is_some_and(|a| {
            a.iter()
                .all(|l| l["signed_by"].as_array().map(Vec::len) == Some(4))
                && a.len() == 3
        })
    });
    let outsider = Outsider::new();
    let (code, record) = outsider.verify_json(&chair.export(&neg, "record.ent"));
    assert_eq!(code, Some(0), "{record}");
    for auth in record["authentication"].as_array().unwrap() {
        let lang = auth["language"].as_str().unwrap();
        assert_eq!(
            auth["hash"].as_str(),
            hashes.get(lang).map(String::as_str),
            "{auth}"
        );
        assert_eq!(auth["status"], "adopted");
        let mut names: Vec<&str> = auth["signed_by"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s[0].as_str())
            .collect();
        names.sort();
        assert_eq!(names, ["Brazil", "Chair", "Egypt", "France"], "{auth}");
    }
    let outcomes: Vec<&str> = record["proceedings"]["silences"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["outcome"].as_str())
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes.contains(&"broken") && outcomes.contains(&"passed"),
        "{outcomes:?}"
    );

    // The public signed text, verified on its own, names the same hashes and signers.
    let public = chair.file("statement.public.ent");
    chair.run_ok([
        OsStr::new("export"),
        OsStr::new(&neg),
        OsStr::new("--adopted"),
        OsStr::new("--out"),
        public.as_os_str(),
    ]);
    let (code, summary) = outsider.verify_json(&public);
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["kind"], "public-signed-text");
    for lang in summary["languages"].as_array().unwrap() {
        let l = lang["language"].as_str().unwrap();
        assert_eq!(lang["hash"].as_str(), hashes.get(l).map(String::as_str));
        assert_eq!(
            lang["signatures"].as_array().map(Vec::len),
            Some(4),
            "{lang}"
        );
    }
    let bytes = std::fs::read(&public).unwrap();
    for secret in ["Capital cannot accept", "too ambitious", "halve nitrate"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the public text carries no confidential history ({secret:?})"
        );
    }
    assert_forged_copy_fails(&outsider, &public, &bytes);

    // French and Arabic round-trip: the clean text out is the text in.
    for (lang, text) in [("fr", &rev2_fr), ("ar", &rev2_ar), ("en", &rev2_en)] {
        let out = brazil.run_ok([
            "draft",
            "show",
            &neg,
            "--rev",
            &rev2_id[..16],
            "--clean",
            "--lang",
            lang,
        ]);
        assert_eq!(out.trim_end(), text.trim_end(), "{lang} text round-trips");
    }
    let _ = zero_id;
    conference.stop();
}

/// A copy of the public text with one word changed no longer verifies.
fn assert_forged_copy_fails(outsider: &Outsider, public: &Path, bytes: &[u8]) {
    let from = "substantially".as_bytes();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the English text is in the public text");
    let mut forged = bytes.to_vec();
    forged[at..at + from.len()].copy_from_slice("marginally!!!".as_bytes());
    let path = public.with_extension("forged");
    std::fs::write(&path, forged).expect("write the forged copy");
    let (code, v) = outsider.verify_json(&path);
    assert_ne!(code, Some(0), "a forged communique must fail: {v}");
}

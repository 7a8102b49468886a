//! Texts through the real binary, without a network: the plain-text convention in French and
//! Arabic, exports (Akoma Ntoso, HTML, Markdown), outdated translations, large texts in blobs,
//! and refusals that say why.

use std::ffi::OsStr;

use entente_tests::{Node, carry, circulate, convene_trilingual};

const AKN_NS: &str = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0";

const EN: &str = "symbol: A/CONF.1/L.3
title: Joint statement on the Rhine

[PP1] Recalling the Convention on the Protection of the Rhine,

[OP1] Decides to reduce nitrate discharges by 2030;

[OP1.a] in the main river;

[OP2] Requests the secretariat to report annually.
";

const FR: &str = "symbol: A/CONF.1/L.3
title: Déclaration commune sur le Rhin

[PP1] Rappelant la Convention pour la protection du Rhin,

[OP1] Décide de réduire les rejets de nitrates d’ici à 2030 ;

[OP1.a] dans le cours principal ;

[OP2] Prie le secrétariat de faire rapport chaque année « sans délai ».
";

const AR: &str = "symbol: A/CONF.1/L.3
title: بيان مشترك بشأن نهر الراين

[PP1] إذ تشير إلى اتفاقية حماية نهر الراين،

[OP1] تقرر خفض تصريف النترات بحلول عام ٢٠٣٠؛

[OP1.a] في المجرى الرئيسي؛

[OP2] تطلب إلى الأمانة أن تقدم تقريرًا سنويًا.
";

fn show(node: &Node, neg: &str, args: &[&str]) -> String {
    let mut a = vec!["draft", "show", neg];
    a.extend_from_slice(args);
    node.run_ok(&a)
}

#[test]
fn french_and_arabic_texts_round_trip_and_export_to_akoma_ntoso_html_and_markdown() {
    let (chair, neg) = convene_trilingual("Rhine");
    let out = circulate(
        &chair,
        &neg,
        "zero draft",
        &[("en", EN), ("fr", FR), ("ar", AR)],
    );
    assert_eq!(out["hashes"].as_object().map(|h| h.len()), Some(3), "{out}");

    for (lang, text) in [("en", EN), ("fr", FR), ("ar", AR)] {
        // The clean text in the plain-text convention is byte for byte what was circulated.
        let clean = show(&chair, &neg, &["--lang", lang, "--clean"]);
        assert_eq!(clean.trim_end(), text.trim_end(), "{lang} round-trips");

        // Akoma Ntoso: well-formed XML in the AKN 3.0 namespace, one element per paragraph.
        let akn = show(&chair, &neg, &["--lang", lang, "--format", "akn"]);
        let doc = roxmltree::Document::parse(&akn).unwrap_or_else(|e| panic!("{lang}: {e}\n{akn}"));
        assert_eq!(doc.root_element().tag_name().namespace(), Some(AKN_NS));
        assert_eq!(doc.root_element().tag_name().name(), "akomaNtoso");
        for (id, eid) in [
            ("PP1", "pp_1"),
            ("OP1", "op_1"),
            ("OP1.a", "op_1__subpara_a"),
            ("OP2", "op_2"),
        ] {
            let found: Vec<_> = doc
                .descendants()
                .filter(|n| n.attribute("eId") == Some(eid))
                .collect();
            assert_eq!(
                found.len(),
                1,
                "{lang}: one element with eId {eid} for {id}"
            );
            assert!(
                found[0].descendants().any(|n| n.text() == Some(id)),
                "{lang}: the element of {id} names it"
            );
        }
        let body: String = doc.descendants().filter_map(|n| n.text()).collect();
        let first = text.lines().find(|l| l.starts_with("[OP1] ")).unwrap();
        assert!(
            body.contains(first.trim_start_matches("[OP1] ")),
            "{lang}: the text is in the XML"
        );

        let html = show(&chair, &neg, &["--lang", lang, "--format", "html"]);
        let rtl = html.contains("dir=\"rtl\"");
        assert_eq!(rtl, lang == "ar", "{lang}: right to left only for Arabic");
        let md = show(&chair, &neg, &["--lang", lang, "--format", "md"]);
        assert!(md.contains("OP1.a"), "{md}");
    }
    // `draft check` reads a file and prints it normalised.
    let path = chair.file("ar.txt");
    std::fs::write(&path, AR).unwrap();
    let checked = chair.run_ok([
        OsStr::new("draft"),
        OsStr::new("check"),
        path.as_os_str(),
        OsStr::new("--lang"),
        OsStr::new("ar"),
    ]);
    assert_eq!(checked.trim_end(), AR.trim_end());
}

#[test]
fn a_translation_left_unchanged_while_its_source_changed_shows_as_outdated() {
    let (chair, neg) = convene_trilingual("Rhine");
    circulate(&chair, &neg, "zero draft", &[("en", EN), ("fr", FR)]);
    let rev1_en = EN.replace("by 2030;", "by 2035;");
    let out = circulate(&chair, &neg, "Rev.1", &[("en", &rev1_en), ("fr", FR)]);
    assert_eq!(
        out["stale_translations"],
        serde_json::json!(["fr OP1"]),
        "{out}"
    );
    let view = chair.json(["draft", "show", &neg, "--lang", "fr"]);
    let stale: Vec<&str> = view["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["stale_translation"] == true)
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(stale, ["OP1"]);
    assert!(
        show(&chair, &neg, &["--lang", "fr", "--format", "md"]).contains("translation outdated")
    );
    // Translating the paragraph again clears the flag.
    let rev2_fr = FR.replace("d’ici à 2030", "d’ici à 2035");
    let out = circulate(&chair, &neg, "Rev.2", &[("en", &rev1_en), ("fr", &rev2_fr)]);
    assert_eq!(out["stale_translations"], serde_json::json!([]), "{out}");
    // The comparison of two revisions is word by word, in French too.
    let diff = chair.run_ok(["draft", "diff", &neg, "zero draft", "Rev.2", "--lang", "fr"]);
    assert!(
        diff.contains("[-2030-]") && diff.contains("{+2035+}"),
        "{diff}"
    );
}

#[test]
fn a_large_text_travels_in_blobs_and_reads_the_same_on_another_node() {
    let (chair, neg) = convene_trilingual("A long treaty");
    let delegation = Node::init("Delegation");
    chair.invite(&neg, &delegation.delegation(), "delegation", "Delegation");
    carry(&chair, &delegation, &neg, "accredited.ent");
    delegation.join(&neg);
    carry(&delegation, &chair, &neg, "joined.ent");

    let mut text = String::from("title: A long treaty\n");
    for i in 1..=400 {
        text.push_str(&format!(
            "\n[OP{i}] Article {i}: the parties shall cooperate in good faith on matter number {i}, with due regard to the provisions of the preceding articles and to the interests of every riparian state.\n"
        ));
    }
    assert!(text.len() > 64 * 1024, "larger than one event can hold");
    let out = circulate(&chair, &neg, "zero draft", &[("en", &text)]);
    assert!(out["blobs"].as_u64().is_some_and(|n| n >= 2), "{out}");
    carry(&chair, &delegation, &neg, "text.ent");
    let read = show(&delegation, &neg, &["--clean"]);
    assert_eq!(read.trim_end(), text.trim_end());
}

#[test]
fn refusals_say_why_and_change_nothing() {
    let (chair, neg) = convene_trilingual("Rhine");
    let bee = Node::init("Bee");
    chair.invite(&neg, &bee.delegation(), "delegation", "Bee");
    carry(&chair, &bee, &neg, "accredited.ent");
    bee.join(&neg);
    carry(&bee, &chair, &neg, "joined.ent");
    let en = bee.file("en.txt");
    std::fs::write(&en, EN).unwrap();
    let circulate_args = |label: &str| {
        vec![
            "draft".to_string(),
            "circulate".into(),
            neg.clone(),
            "--label".into(),
            label.into(),
            "--text".into(),
            format!("en={}", en.display()),
        ]
    };

    let before = bee.log(&neg).len();
    let err = bee.run_err(circulate_args("Bee's draft"));
    assert!(err.contains("only the chair or a pen-holder"), "{err}");
    let err = bee.run_err(["amend", &neg, "OP1", "--delete"]);
    assert!(err.contains("no revision has been circulated"), "{err}");
    let err = bee.run_err(["silence", "open", &neg]);
    assert!(err.contains("no revision"), "{err}");
    let err = bee.run_err(["sign", &neg]);
    assert!(err.contains("nothing has been adopted"), "{err}");
    assert_eq!(bee.log(&neg).len(), before, "a refusal records nothing");

    // With the pen, the delegation circulates.
    chair.json(["pen", &neg, &bee.delegation()]);
    carry(&chair, &bee, &neg, "pen.ent");
    bee.json(circulate_args("Bee's draft"));
    carry(&bee, &chair, &neg, "draft.ent");

    let err = bee.run_err(["amend", &neg, "OP9", "--replace", "x"]);
    assert!(
        err.contains("paragraph that the revision does not have"),
        "{err}"
    );
    let err = bee.run_err(["amend", &neg, "OP1"]);
    assert!(
        err.contains("--replace TEXT, --insert-after NEW_ID TEXT or --delete"),
        "{err}"
    );
    let err = bee.run_err(["mark", &neg, "OP1", "agreed"]);
    assert!(err.contains("only the chair marks"), "{err}");
    let err = bee.run_err(["mark", &neg, "OP1", "confirmed"]);
    assert!(err.contains("only its own ad referendum"), "{err}");
    let usage = bee.run(["mark", &neg, "OP1", "sealed"]);
    let err = String::from_utf8_lossy(&usage.stderr);
    assert_eq!(usage.status.code(), Some(2), "a usage error: {err}");
    assert!(
        err.contains("ad-referendum"),
        "the error lists the marks: {err}"
    );
    let err = bee.run_err(["silence", "open", &neg]);
    assert!(
        err.contains("silence-open") && err.contains("only a chair"),
        "{err}"
    );
    let err = chair.run_err([
        "silence",
        "open",
        &neg,
        "--deadline",
        "2001-01-01T00:00:00Z",
    ]);
    assert!(err.contains("already passed"), "{err}");
    let err = chair.run_err(["silence", "open", &neg, "--period", "soon"]);
    assert!(err.contains("expected a length"), "{err}");
    let err = chair.run_err(["adopt", &neg, "--silence", "ffff"]);
    assert!(err.contains("no silence procedure"), "{err}");

    let err = chair.run_err(["silence", "open", &neg, "--period", "20000d"]);
    assert!(err.contains("more than ten years"), "{err}");

    // Adoption waits for an open silence procedure, and never passes over an objection.
    chair.json(["silence", "open", &neg, "--period", "1h"]);
    let err = chair.run_err(["adopt", &neg]);
    assert!(
        err.contains("still open") && err.contains("--consensus"),
        "{err}"
    );
    bee.json(["object", &neg, "--reason", "Not without instructions"]);
    carry(&bee, &chair, &neg, "objection.ent");
    let err = chair.run_err(["adopt", &neg, "--consensus"]);
    assert!(err.contains("Bee objected"), "{err}");

    // A malformed text file is rejected with its line.
    let bad = chair.file("bad.txt");
    std::fs::write(&bad, "title: x\n\n[OP1] fine\n\nstray words\n").unwrap();
    let err = chair.run_err([
        OsStr::new("draft"),
        OsStr::new("circulate"),
        OsStr::new(&neg),
        OsStr::new("--label"),
        OsStr::new("Rev.1"),
        OsStr::new("--text"),
        OsStr::new(&format!("en={}", bad.display())),
    ]);
    assert!(err.contains("line 5"), "{err}");
    let err = chair.run_err([
        "draft",
        "circulate",
        &neg,
        "--label",
        "x",
        "--text",
        "de=x.txt",
    ]);
    assert!(err.contains("not a language of this negotiation"), "{err}");
}

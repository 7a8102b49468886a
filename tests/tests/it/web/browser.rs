//! The web UI in a real headless Chromium: two delegations in two browser sessions on two
//! nodes. France proposes an amendment in the UI; Egypt, whose page is in Arabic, sees it appear
//! without reloading and objects; the chair sees both in the positions matrix. Screenshots of the
//! main screens are written to target/test-artifacts/.

use std::time::Duration;

use entente_tests::browser::{Browser, Driver};
use entente_tests::daemon::wait_until;
use entente_tests::{Conference, Node, circulate, str_field};

const LIMIT: Duration = Duration::from_secs(30);

const ZERO_EN: &str = "symbol: A/CONF.1/L.3\ntitle: Joint statement on the Rhine\n\n[PP1] Recalling the Convention on the Protection of the Rhine,\n\n[OP1] Decides to reduce nitrate discharges by 2030;\n\n[OP2] Requests the secretariat to report annually.\n";
const ZERO_FR: &str = "symbol: A/CONF.1/L.3\ntitle: Déclaration commune sur le Rhin\n\n[PP1] Rappelant la Convention pour la protection du Rhin,\n\n[OP1] Décide de réduire les rejets de nitrates d’ici à 2030 ;\n\n[OP2] Prie le secrétariat de faire rapport chaque année.\n";
const ZERO_AR: &str = "symbol: A/CONF.1/L.3\ntitle: بيان مشترك بشأن نهر الراين\n\n[PP1] إذ تشير إلى اتفاقية حماية نهر الراين،\n\n[OP1] تقرر خفض تصريف النترات بحلول عام ٢٠٣٠؛\n\n[OP2] تطلب إلى الأمانة أن تقدم تقريرًا سنويًا.\n";

#[test]
fn an_amendment_proposed_in_one_browser_appears_live_in_another_and_in_the_chairs_matrix() {
    let conference = Conference::convene("Joint statement on the Rhine", &["France", "Egypt"]);
    let (chair, neg) = (&conference.chair, conference.negotiation.clone());
    let (nodes, daemons, chair_daemon) = (
        &conference.delegations,
        &conference.daemons,
        &conference.chair_daemon,
    );
    circulate(
        chair,
        &neg,
        "zero draft",
        &[("en", ZERO_EN), ("fr", ZERO_FR), ("ar", ZERO_AR)],
    );
    wait_until(LIMIT, "both delegations hold the zero draft", || {
        nodes.iter().all(|n| {
            n.json(["draft", "list", &neg])
                .as_array()
                .is_some_and(|a| a.len() == 1)
        })
    });

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let driver = Driver::start();
        let fr = Browser::open(&driver, "france", "en").await;
        let eg = Browser::open(&driver, "egypt", "ar").await;
        let ch = Browser::open(&driver, "chair", "en").await;
        for (b, d) in [(&fr, &daemons[0]), (&eg, &daemons[1]), (&ch, chair_daemon)] {
            b.goto(&d.web_url()).await;
            b.click("[data-testid=nav-negotiation]").await;
        }

        // Egypt's browser asked for Arabic: the whole page is right to left.
        eg.until("the Arabic page is right to left", LIMIT, "return document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar';").await;

        // The text screen: paragraphs with their ids and statuses; French and Arabic each in
        // their own direction.
        ch.click("[data-testid=tab-text]").await;
        ch.wait_for("[data-testid=paragraph][data-id=OP1]").await;
        ch.screenshot("text").await;
        eg.click("[data-testid=tab-text]").await;
        eg.select("[data-testid=language-select]", "ar").await;
        eg.until("the Arabic text shows right to left", LIMIT, "const p = document.querySelector('[data-testid=paragraph][data-id=OP1]'); return !!p && p.closest('[dir]').getAttribute('dir') === 'rtl' && p.textContent.includes('النترات');").await;
        eg.screenshot("text-ar").await;

        // Egypt waits on the amendments screen; it must not reload to see France's proposal.
        eg.click("[data-testid=tab-amend]").await;
        eg.js("window.__sameDocument = true; return true;").await;
        let before = eg.js("return document.querySelectorAll('[data-testid=amendment]').length;").await;
        assert_eq!(before, serde_json::json!(0));

        fr.click("[data-testid=tab-amend]").await;
        fr.select("[data-testid=amend-paragraph]", "OP1").await;
        fr.select("[data-testid=amend-op]", "replace").await;
        fr.type_into("[data-testid=amend-text]", "Decides to halve nitrate discharges by 2030;").await;
        fr.type_into("[data-testid=amend-justification]", "More ambition").await;
        fr.screenshot("amend").await;
        fr.click("[data-testid=amend-submit]").await;

        eg.until("France's amendment appears in Egypt's page without a reload", LIMIT,
            "return window.__sameDocument === true && [...document.querySelectorAll('[data-testid=amendment]')].some(a => a.textContent.includes('halve'));").await;
        let amendment = eg.js("return document.querySelector('[data-testid=amendment]').getAttribute('data-id');").await;
        let amendment = amendment.as_str().expect("the amendment's id").to_string();
        eg.click(&format!("[data-testid=amendment][data-id='{amendment}'] [data-testid=position-object]")).await;
        eg.screenshot("amend-ar").await;

        // The chair sees the amendment and Egypt's objection in the positions matrix.
        ch.click("[data-testid=tab-positions]").await;
        ch.until("the chair's matrix shows Egypt objecting to France's amendment", LIMIT, &format!(
            "return [...document.querySelectorAll('[data-testid=position-cell]')].some(c => c.getAttribute('data-delegation') === 'Egypt' && c.getAttribute('data-target') === '{amendment}' && /object/i.test(c.textContent + c.getAttribute('data-stance')));"
        )).await;
        ch.wait_for("[data-testid=positions-matrix]").await;
        ch.screenshot("positions").await;

        // The other main screens, for the record.
        for (tab, name) in [("tab-members", "members"), ("tab-channels", "channels"), ("tab-silence", "silence")] {
            ch.click(&format!("[data-testid={tab}]")).await;
            tokio::time::sleep(Duration::from_millis(400)).await;
            ch.screenshot(name).await;
        }
        // A newcomer watches from its own node and joins from the web UI with a token.
        let brazil = Node::init("Brazil");
        let brazil_daemon = conference.up(&brazil);
        let inv = chair.json(["invite", &neg, "--delegation", &brazil.delegation(), "--name", "Brazil"]);
        let token = str_field(&inv, "token");
        let br = Browser::open(&driver, "brazil", "fr").await;
        br.goto(&brazil_daemon.web_url()).await;
        br.type_into("[data-testid=join-token]", &token).await;
        br.click("[data-testid=join-submit]").await;
        br.until("Brazil has joined and sees the negotiation", LIMIT,
            "return !!document.querySelector('[data-testid=nav-negotiation]') && document.documentElement.lang === 'fr';").await;
        br.click("[data-testid=nav-negotiation]").await;
        br.click("[data-testid=tab-text]").await;
        // A newcomer reads from its own key epoch on: the zero draft came before it, until the
        // chair shares the history; then the text appears without a reload.
        wait_until(LIMIT, "the chair sees Brazil active", || {
            chair.members(&neg).iter().any(|m| m["name"] == "Brazil" && m["status"] == "active")
        });
        chair.json(["share-history", &neg, "--delegation", &brazil.delegation()]);
        br.wait_for("[data-testid=paragraph][data-id=OP1]").await;
        br.screenshot("joined-fr").await;
        for b in [fr, eg, ch, br] {
            b.close().await;
        }
        brazil_daemon.stop();
    });

    // What the browsers did is in the record: the CLI of another node agrees.
    let rows = chair.json(["draft", "positions", &neg]);
    assert!(
        rows.as_array().is_some_and(|r| r
            .iter()
            .any(|x| x["name"] == "Egypt" && x["stance"] == "object")),
        "{rows}"
    );
    conference.stop();
}

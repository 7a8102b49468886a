//! The local API of a running node: the token is required, bad input gets a 4xx with the reason
//! and writes nothing, and server-sent events announce new events.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use entente_tests::daemon::Daemon;
use entente_tests::{Node, str_field};
use serde_json::{Value, json};

const LOOPBACK: &str = "/ip4/127.0.0.1/tcp/0";

/// An HTTP client that returns 4xx and 5xx responses instead of failing on them.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

struct Web {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Web {
    fn of(node: &Node, daemon: &Daemon) -> Self {
        let url = daemon.web_url();
        let base = url.split('#').next().expect("a URL").to_string();
        let token = std::fs::read_to_string(node.home().join("api-token"))
            .expect("the API token file")
            .trim()
            .to_string();
        Self {
            base,
            token,
            agent: agent(),
        }
    }

    fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut req = self
            .agent
            .get(format!("{}{}", self.base, path.trim_start_matches('/')));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.call().expect("the API answers");
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().expect("a body"))
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let mut resp = self
            .agent
            .post(format!("{}{}", self.base, path.trim_start_matches('/')))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(body)
            .expect("the API answers");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path, Some(&self.token));
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

#[test]
fn the_api_wants_its_token_refuses_bad_input_clearly_and_streams_new_events() {
    let chair = Node::init("Chair");
    let neg = str_field(
        &chair.json([
            "negotiation",
            "create",
            "--title",
            "Rhine",
            "--language",
            "en",
            "--language",
            "ar",
        ]),
        "negotiation",
    );
    let daemon = chair.spawn_daemon(&["up", "--listen", LOOPBACK, "--no-mdns"]);
    let web = Web::of(&chair, &daemon);

    // 401 without the token or with a wrong one, on every route of the OpenAPI document.
    let (status, doc) = web.get("/api/openapi.json", None);
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc).expect("OpenAPI JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25, "{paths:?}");
    for (path, ops) in paths {
        let concrete = path
            .replace("{neg}", &neg)
            .replace("{delegation}", &"0".repeat(64))
            .replace("{bracket}", "abcd")
            .replace("{silence}", "abcd");
        for (method, op) in ops.as_object().expect("operations") {
            if op.get("security").is_some_and(|s| s == &json!([])) {
                continue;
            }
            let req = match method.as_str() {
                "get" => web
                    .agent
                    .get(format!("{}{}", web.base, &concrete[1..]))
                    .header("Authorization", "Bearer wrong")
                    .call(),
                _ => web
                    .agent
                    .post(format!("{}{}", web.base, &concrete[1..]))
                    .send("{}"),
            };
            let status = req.expect("answers").status().as_u16();
            assert_eq!(status, 401, "{method} {path} without a valid token");
        }
    }
    let (status, body) = web.get("/api/negotiations", None);
    assert_eq!(status, 401);
    assert!(body.contains("bearer token"), "{body}");

    // The one-time login code from `entente up` yields the token once.
    let code = daemon
        .web_url()
        .split("#login=")
        .nth(1)
        .expect("a login code")
        .to_string();
    let (status, body) = {
        let mut r = web
            .agent
            .post(format!("{}api/login", web.base))
            .header("Content-Type", "application/json")
            .send(json!({"code": code}).to_string())
            .expect("answers");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().expect("body"),
        )
    };
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON")["token"],
        web.token.as_str()
    );
    let again = web
        .agent
        .post(format!("{}api/login", web.base))
        .header("Content-Type", "application/json")
        .send(json!({"code": code}).to_string())
        .expect("answers");
    assert_eq!(again.status().as_u16(), 401, "a login code works once");

    // Bad input: 4xx with the reason, and nothing written.
    let before = chair.log(&neg).len();
    let cases: [(&str, &str, u16, &str); 6] = [
        (
            "/api/negotiations/NEG/revisions",
            "{\"label\":",
            400,
            "JSON",
        ),
        (
            "/api/negotiations/NEG/revisions",
            "{\"label\":\"zero\",\"texts\":{\"en\":\"[XP1] no\"}}",
            400,
            "paragraph id",
        ),
        (
            "/api/negotiations/NEG/amendments",
            "{\"paragraph\":\"OP1\",\"op\":\"merge\"}",
            400,
            "expected replace",
        ),
        (
            "/api/negotiations/NEG/amendments",
            "{\"paragraph\":\"OP1\",\"op\":\"delete\"}",
            422,
            "no revision has been circulated",
        ),
        (
            "/api/negotiations/NEG/positions",
            "{\"target\":\"OP1\",\"stance\":\"maybe\"}",
            400,
            "unknown stance",
        ),
        (
            "/api/negotiations/ffff/messages",
            "{\"text\":\"hi\"}",
            404,
            "no negotiation",
        ),
    ];
    for (path, body, want, says) in cases {
        let (status, v) = web.post(&path.replace("NEG", &neg), body);
        assert_eq!(status, want, "{path} {body}: {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(says), "{path} {body}: the error says why: {v}");
    }
    let (status, v) = web.post(
        &format!("/api/negotiations/{neg}/governance"),
        "{\"action\":\"dance\"}",
    );
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown variant"),
        "{v}"
    );
    let (status, v) = web.post(
        &format!("/api/negotiations/{neg}/governance"),
        "{\"action\":\"remove\",\"delegation\":\"nope\"}",
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        chair.log(&neg).len(),
        before,
        "refused requests write nothing"
    );
    // Governance changes go through the same rules as on the command line.
    let (status, v) = web.post(
        &format!("/api/negotiations/{neg}/governance"),
        "{\"action\":\"note\",\"text\":\"For the record\"}",
    );
    assert_eq!(status, 200, "{v}");
    // (The first sealed content of the plenary also starts its key epoch.)
    let log = chair.log(&neg);
    assert!(
        log.iter()
            .any(|e| e["kind"] == "note" && e["body"]["text"] == "For the record"),
        "{log:?}"
    );

    // Server-sent events: a message said through the API arrives on the stream.
    let mut sse = web
        .agent
        .get(format!("{}api/events", web.base))
        .header("Authorization", format!("Bearer {}", web.token))
        .call()
        .expect("the event stream opens");
    assert_eq!(sse.status().as_u16(), 200);
    let mut lines = BufReader::new(sse.body_mut().as_reader()).lines();
    let (status, said) = web.post(
        &format!("/api/negotiations/{neg}/messages"),
        "{\"text\":\"Hello from the API\"}",
    );
    assert_eq!(status, 200, "{said}");
    let id = str_field(&said, "event");
    let start = Instant::now();
    let mut seen = false;
    while start.elapsed() < Duration::from_secs(10) {
        let line = lines.next().expect("the stream goes on").expect("a line");
        if line.starts_with("data:") && line.contains(&id) {
            assert!(line.contains("\"kind\":\"sealed\""), "{line}");
            seen = true;
            break;
        }
    }
    assert!(seen, "the new event was announced on /api/events");
    let took = start.elapsed();
    eprintln!("event announced after {took:?}");

    // The same capabilities as the command line: a text circulated and read back as Arabic HTML.
    let (status, done) = web.post(
        &format!("/api/negotiations/{neg}/revisions"),
        &json!({"label": "zero draft", "texts": {"en": "[OP1] Decides to meet.", "ar": "[OP1] تقرر أن تجتمع."}}).to_string(),
    );
    assert_eq!(status, 200, "{done}");
    let view = web.get_json(&format!("/api/negotiations/{neg}/text?lang=ar"));
    assert_eq!(view["rtl"], true);
    assert_eq!(view["paragraphs"][0]["text"], "تقرر أن تجتمع.");
    let (status, html) = web.get(
        &format!("/api/negotiations/{neg}/text?lang=ar&format=html"),
        Some(&web.token),
    );
    assert_eq!(status, 200);
    assert!(html.contains("dir=\"rtl\""), "{html}");
    daemon.stop();
}

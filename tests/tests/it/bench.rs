//! The benchmark stays runnable: a `--quick` run writes a complete report in which every missed
//! target says why.

use std::process::Command;

use serde_json::Value;

/// Sections the report must always have (a quick run measures the network at N = 5 only).
const SECTIONS: &[&str] = &[
    "Protocol",
    "Storage",
    "Crypto",
    "Cold sync",
    "Propagation latency, N = 5",
    "Sustained throughput, N = 5",
    "Relay circuit throughput",
    "Memory per node",
];

#[test]
fn a_quick_benchmark_run_writes_a_complete_report() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = Command::new(env!("CARGO_BIN_EXE_entente-bench"))
        .args(["--quick", "--out"])
        .arg(out.path())
        .arg("--entente")
        .arg(entente_tests::binary())
        .output()
        .expect("run entente-bench");
    assert!(
        run.status.success(),
        "entente-bench --quick failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let json: Value = serde_json::from_slice(
        &std::fs::read(out.path().join("report.json")).expect("report.json written"),
    )
    .expect("report.json is JSON");
    let md = std::fs::read_to_string(out.path().join("report.md")).expect("report.md written");
    let sections = json["sections"].as_array().expect("sections");
    let titles: Vec<&str> = sections
        .iter()
        .filter_map(|s| s["title"].as_str())
        .collect();
    for want in SECTIONS {
        assert!(titles.contains(want), "no {want} section in {titles:?}");
        assert!(md.contains(&format!("## {want}")), "report.md lacks {want}");
    }
    assert!(
        json["machine"]["cpu"].is_string(),
        "the machine is described"
    );
    for s in sections {
        assert!(
            !s["setup"].as_str().unwrap_or_default().is_empty(),
            "section {} states its setup",
            s["title"]
        );
        for f in s["figures"].as_array().expect("figures") {
            match f["value"].as_f64() {
                Some(value) => assert!(value.is_finite() && value >= 0.0, "figure {f}"),
                // JSON has no infinity: deliveries that never arrived make a latency infinite,
                // written as null, and that is a miss.
                None => assert!(
                    f["value"].is_null() && f["met"] == Value::Bool(false),
                    "figure {f}"
                ),
            }
            if f["met"] == Value::Bool(false) {
                assert!(
                    f["missed_because"].as_str().is_some_and(|s| !s.is_empty()),
                    "a missed target without a reason: {f}"
                );
            }
            if let Some(b) = f["baseline"].as_f64() {
                assert!(f["ratio"].as_f64().is_some() || b == 0.0, "no ratio: {f}");
            }
        }
    }
}
